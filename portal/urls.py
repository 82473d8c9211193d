from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from billing import urls as billing_urls
from portal import views

handler400 = "portal.views.bad_request"
# handler403, handler404 and handler500 are Django's own, rendering 403.html, 404.html
# and 500.html from templates/ (500.html without a request: base.html copes).

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="accounts:dashboard", permanent=False)),
    path("healthz/", views.healthz, name="healthz"),
    path("help/", views.help_page, name="help"),
    path("legal/", views.legal, name="legal"),
    path("admin/", admin.site.urls),
    path("billing/", include("billing.urls")),
    path("account/contacts/", include((billing_urls.contact_urlpatterns, "contacts"))),
    path("", include("accounts.urls")),
    path("", include("support.urls")),
    path("account/emails/", include("notifications.urls")),
]
