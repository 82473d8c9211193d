"""Passwords: "Forgotten password?" (handled by a worker so that nothing tells whether
the account exists), the notice after any change."""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import (
    PasswordResetAttempt,
    SecurityEvent,
    User,
)
from accounts.security import security_log
from accounts.services.common import rate_limit
from notifications.services import email_queue
from portal.links import portal_url
from portal.queueing import task_send, task_send_on_commit
from portal.requestinfo import client_ip, user_agent

if TYPE_CHECKING:
    from datetime import datetime

    from django.http import HttpRequest

log = logging.getLogger(__name__)

RESET_LIMIT_PER_LOGIN = (3, 3600)    # three requests an hour for one login as typed
RESET_LIMIT_PER_IP = (20, 3600)
RESET_LINKS_PER_ACCOUNT = 3          # links an account receives in RESET_LINKS_WINDOW
RESET_LINKS_WINDOW = timedelta(hours=1)
RESET_TASK = "accounts.tasks.send_password_reset_task"




def password_reset_url(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return portal_url(reverse("accounts:password-reset-confirm",
                              args=[uid, default_token_generator.make_token(user)]))


def _typed_login(login):
    return (login or "").strip().lower()[:254]


def password_reset_rate_limit(*, login: str, request: HttpRequest | None = None) -> None:
    """Count a "Forgotten password?" request before the form is even read: per IP, and
    per login as typed (lower-cased), never per account found. A limit keyed by the
    account would show on its email address once reached through its NIC handle, and so
    link the two. Raises RateLimited."""
    rate_limit(f"reset-ip:{client_ip(request)}", RESET_LIMIT_PER_IP)
    # Hashed: a cache key of bounded length and safe characters, without the address.
    typed = hashlib.sha256(_typed_login(login).encode()).hexdigest()
    rate_limit(f"reset-login:{typed}", RESET_LIMIT_PER_LOGIN)


def password_reset_request(
        *, login: str, request: HttpRequest | None = None) -> PasswordResetAttempt:
    """Record a "Forgotten password?" request and hand it to a worker. The web request
    does the same work whether or not an account matches (it does not look); the
    caller applied password_reset_rate_limit first; password_reset_send does the rest."""
    with transaction.atomic():
        attempt = PasswordResetAttempt.objects.create(
            login=_typed_login(login), ip_address=client_ip(request),
            user_agent=user_agent(request))
        task_send_on_commit(RESET_TASK, attempt.pk)
    return attempt


def password_reset_send(*, attempt_id: int) -> User | None:
    """In the worker:
    1. Claim the request (a request handed over twice is handled once).
    2. Find the active account it names, by NIC handle or email; none: nothing to send.
    3. Record the account on the request, for support.
    4. Send nothing more when the account's requests processed in the last hour already
       number RESET_LINKS_PER_ACCOUNT: the web limits count each login as typed, so
       someone alternating the NIC handle and the email would otherwise double them.
       Silent, like everything the worker decides.
    5. Log it and queue the single-use link (valid PASSWORD_RESET_TIMEOUT) to the
       primary address."""
    now = timezone.now()
    with transaction.atomic():
        if not PasswordResetAttempt.objects.filter(pk=attempt_id, processed_at=None).update(
            processed_at=now
        ):
            return None
        attempt = PasswordResetAttempt.objects.get(pk=attempt_id)
        login = attempt.login
        user = User.objects.filter_by_login(login).filter(is_active=True).first()
        if user is None:
            return None
        recent = PasswordResetAttempt.objects.filter(
            user=user, processed_at__gt=now - RESET_LINKS_WINDOW).count()
        attempt.user = user
        attempt.save(update_fields=["user"])
        if recent >= RESET_LINKS_PER_ACCOUNT:
            log.info("Reset request %s: %s already had %s links this hour; none sent",
                     attempt_id, user.nic_handle, recent)
            return None
        security_log(user=user, action=SecurityEvent.Action.PASSWORD_RESET_REQUESTED,
                     ip_address=attempt.ip_address, user_agent_text=attempt.user_agent)
        email_queue(template="password_reset", to=user.email, user=user,
                    context={"valid_minutes": settings.PASSWORD_RESET_TIMEOUT // 60},
                    secrets={"reset_url": password_reset_url(user)})
    return user


def password_resets_requeue_stale(*, now: datetime | None = None) -> int:
    """Requests the broker lost (it was down at commit): hand them to a worker again.
    Processing claims each one, so a request sent twice is still handled once."""
    now = now or timezone.now()
    stale = PasswordResetAttempt.objects.filter(
        processed_at=None, created_at__lt=now - timedelta(minutes=2),
        created_at__gt=now - timedelta(hours=1),
    ).values_list("pk", flat=True)[:500]
    for attempt_id in stale:
        task_send(RESET_TASK, attempt_id)
    return len(stale)


def password_changed(
        *, user: User, request: HttpRequest | None = None, actor: User | None = None,
        how: str) -> None:
    """After any password change: the notice email (never switched off) and the log line.
    Other sessions end by themselves: Django ties each session to the password hash."""
    action = (SecurityEvent.Action.PASSWORD_RESET if how == "reset"
              else SecurityEvent.Action.PASSWORD_CHANGED)
    security_log(user=user, action=action, request=request, actor=actor)
    security_log(user=user, action=SecurityEvent.Action.SESSIONS_ENDED, request=request,
                 actor=actor, reason=f"password {how}")
    email_queue(template="password_changed", to=user.email, user=user,
                context={"ip": client_ip(request), "how": how})


def password_change(
        *, user: User, new_password: str, request: HttpRequest | None = None) -> User:
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        password_changed(user=user, request=request, how="change")
    return user
