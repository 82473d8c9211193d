from django.conf import settings


def portal_url(path: str) -> str:
    """The absolute address of a page of the portal, for emails (PORTAL_BASE_URL)."""
    return f"{settings.PORTAL_BASE_URL}{path}"
