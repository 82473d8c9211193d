"""What a request says about where it comes from, for logs and notices."""

import functools
import ipaddress
import unicodedata

from django.conf import settings
from ua_parser import parse_os, parse_user_agent


def client_ip(request):
    """The client's address. Behind a proxy (DJANGO_BEHIND_PROXY) the last hop that the
    proxy appended to X-Forwarded-For is trusted; otherwise only REMOTE_ADDR."""
    if request is None:
        return None
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops and _is_ip(hops[-1]):
            return hops[-1]
    return request.META.get("REMOTE_ADDR") or None


def _is_ip(value):
    """Whether `value` is an address the log's IP columns take: anything else in the
    header (a NUL, a name) would fail the insert on PostgreSQL."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def user_agent(request):
    """The User-Agent header as the log stores it: at most 300 characters, without
    control characters (PostgreSQL refuses NUL in text)."""
    if request is None:
        return ""
    value = request.META.get("HTTP_USER_AGENT", "")
    return "".join(char for char in value if unicodedata.category(char) != "Cc")[:300]


@functools.lru_cache(maxsize=2048)
def browser_and_system(user_agent_string):
    """("Firefox 133", "Windows 10") from a User-Agent header, read with the uap-core
    rules that ua-parser keeps up to date; "" for a part it does not recognise."""
    user_agent_string = user_agent_string or ""
    return (_name_and_version(parse_user_agent(user_agent_string), depth=2),
            _name_and_version(parse_os(user_agent_string), depth=3))


def _name_and_version(part, *, depth):
    if part is None or not part.family or part.family == "Other":
        return ""
    numbers = [n for n in (part.major, part.minor, part.patch)[:depth] if n]
    while len(numbers) > 1 and numbers[-1] == "0":  # "Chrome 131", not "Chrome 131.0.0"
        numbers.pop()
    return " ".join([part.family, ".".join(numbers)]).strip()
