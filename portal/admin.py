from django.contrib import admin
from django.utils.translation import gettext_lazy as _


class PortalAdminSite(admin.AdminSite):
    """Django admin for support staff. A staff login is a login like any other: it is
    throttled (axes) and it writes the security log and the login notification."""

    site_header = _("Customer portal — support")
    site_title = _("Customer portal support")

    def login(self, request, extra_context=None):
        was_anonymous = not request.user.is_authenticated
        response = super().login(request, extra_context)
        if request.method == "POST" and was_anonymous and request.user.is_authenticated:
            from accounts.services import login_notify

            login_notify(user=request.user, request=request)
        return response
