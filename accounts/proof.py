"""What this session has proven and when: the password and the second factor at login,
again on the "Confirm it's you" page (re-authentication), and the "remember this
browser" cookie that lets a login skip the second step for 30 days (customers only:
staff give their second factor at every login).

Sensitive pages (the primary email, the password, the second factor, backup codes)
want a proof younger than REAUTH_WINDOW (`recent_proof_required`). Staff need a session
whose second factor was proven to use /admin/ (portal.admin)."""

from __future__ import annotations

import functools
import time
from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.core import signing
from django.utils.crypto import constant_time_compare
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

PROOF_KEY = "accounts.proof_at"
SECOND_FACTOR_KEY = "accounts.second_factor_at"
PENDING_LOGIN_KEY = "accounts.pending_login"
REAUTH_WINDOW = timedelta(minutes=5)
PENDING_LOGIN_MAX_AGE = 300  # seconds between the password and the second step

TRUSTED_BROWSER_COOKIE = "portal_trusted_browser"
TRUSTED_BROWSER_SALT = "accounts.trusted-browser"
TRUSTED_BROWSER_AGE = timedelta(days=30)


def proof_record(request, *, second_factor: bool) -> None:
    now = time.time()
    request.session[PROOF_KEY] = now
    if second_factor:
        request.session[SECOND_FACTOR_KEY] = now


def second_factor_proven(request) -> bool:
    return SECOND_FACTOR_KEY in request.session


def proof_is_recent(request) -> bool:
    proven_at = request.session.get(PROOF_KEY)
    return proven_at is not None and time.time() - proven_at < REAUTH_WINDOW.total_seconds()


def reauth_url(next_url: str) -> str:
    return f"{reverse('accounts:reauth')}?{urlencode({'next': next_url})}"


def recent_proof_required(view):
    """Send to "Confirm it's you" (password, and a code when the account has a second
    factor) unless this session proved it in the last REAUTH_WINDOW. A POST that arrives
    too late is not acted on: the customer confirms, then submits again."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.user.is_authenticated and not proof_is_recent(request):
            messages.info(request, _("For your security, confirm it's you before going on."))
            return redirect(reauth_url(request.get_full_path()))
        return view(request, *args, **kwargs)

    return wrapped


def trusted_browser_value(user) -> str:
    # The session hash changes with the password: a new password ends the trust.
    return signing.dumps({"u": user.pk, "h": user.get_session_auth_hash()},
                         salt=TRUSTED_BROWSER_SALT)


def trusted_browser_may(user) -> bool:
    """Staff always give their second factor: never offered, never honoured."""
    return not user.is_staff


def trusted_browser_is(request, user) -> bool:
    value = request.COOKIES.get(TRUSTED_BROWSER_COOKIE)
    if not value or not trusted_browser_may(user):
        return False
    try:
        data = signing.loads(value, salt=TRUSTED_BROWSER_SALT,
                             max_age=TRUSTED_BROWSER_AGE.total_seconds())
    except signing.BadSignature:
        return False
    return (data.get("u") == user.pk
            and constant_time_compare(data.get("h", ""), user.get_session_auth_hash()))


def trusted_browser_remember(response, user, *, secure: bool) -> None:
    if not trusted_browser_may(user):
        return
    response.set_cookie(TRUSTED_BROWSER_COOKIE, trusted_browser_value(user),
                        max_age=int(TRUSTED_BROWSER_AGE.total_seconds()), httponly=True,
                        secure=secure, samesite="Lax")
