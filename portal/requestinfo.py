"""What a request says about where it comes from, for logs and notices."""

from django.conf import settings


def client_ip(request):
    """The client's address. Behind a proxy (DJANGO_BEHIND_PROXY) the last hop that the
    proxy appended to X-Forwarded-For is trusted; otherwise only REMOTE_ADDR."""
    if request is None:
        return None
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return request.META.get("REMOTE_ADDR") or None


def user_agent(request):
    if request is None:
        return ""
    return request.META.get("HTTP_USER_AGENT", "")[:300]
