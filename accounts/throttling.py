"""Hooks for django-axes, which throttles repeated login failures."""

from django.conf import settings
from django.shortcuts import render

from accounts.models import User
from portal.requestinfo import client_ip


def login_key(request, credentials):
    """One key per account whether it is typed as NIC handle or email, in any case; an
    unknown login gets its own key, so the answer never tells whether it exists."""
    login = ((credentials or {}).get("username") or "").strip().lower()
    if not login:
        return None
    try:
        return User.objects.get_by_login(login).nic_handle.lower()
    except User.DoesNotExist:
        return login


def request_ip(request):
    return client_ip(request)


def lockout_response(request, credentials, *args, **kwargs):
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "accounts/locked_out.html", {"minutes": minutes}, status=429)
