"""What base.html needs on every page: the menu's current section and the footer's
languages."""

from django.conf import settings

# The first path segment(s) of each menu entry; the longest prefix wins.
_SECTIONS = [
    ("/account/contacts/", "contacts"),
    ("/account/emails/", "emails"),
    ("/account/support/", "support"),
    ("/account/profile/", "account"),
    ("/account/email/", "account"),
    ("/account/security/", "account"),
    ("/billing/services/", "services"),
    ("/billing/orders/", "orders"),
    ("/billing/invoices/", "invoices"),
]


def layout(request):
    path = request.path
    section = "dashboard" if path == "/account/" else next(
        (name for prefix, name in _SECTIONS if path.startswith(prefix)), "")
    return {"nav_section": section, "footer_languages": settings.LANGUAGES}
