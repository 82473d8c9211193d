from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from billing import urls as billing_urls
from portal import views

handler400 = "portal.views.bad_request"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="accounts:dashboard", permanent=False)),
    path("healthz/", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("billing/", include("billing.urls")),
    path("account/contacts/", include((billing_urls.contact_urlpatterns, "contacts"))),
    path("", include("accounts.urls")),
    path("", include("support.urls")),
    path("account/emails/", include("notifications.urls")),
]
