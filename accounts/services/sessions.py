"""The customer's sessions: recorded as they are used, listed on the security page,
ended one by one or all but this one.

Ending a session deletes it from SESSION_ENGINE (database or cache alike, through its
SessionStore), so the browser holding it is logged out at its next request; the row the
page listed goes with it."""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import SecurityEvent, UserSession
from accounts.security import security_log
from portal.requestinfo import client_ip, user_agent

if TYPE_CHECKING:
    from django.http import HttpRequest

    from accounts.models import User

SESSION_SEEN_INTERVAL = timedelta(minutes=1)  # last_seen_at is this precise, at best


def session_store(session_key: str | None = None):
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)


def session_record(*, user: User, session_key: str, row_id: int | None,
                   request: HttpRequest | None = None) -> UserSession:
    """The row of this session, created the first time, its key brought up to date after
    Django changed it, its last sighting moved to now."""
    now = timezone.now()
    fields = {"session_key": session_key, "last_seen_at": now,
              "ip_address": client_ip(request), "user_agent": user_agent(request)}
    with transaction.atomic():
        row = UserSession.objects.filter(pk=row_id, user=user).first() if row_id else None
        # A row already holding this key (a row id lost with the session data): reuse it.
        row = row or UserSession.objects.filter(session_key=session_key, user=user).first()
        if row is None:
            UserSession.objects.filter(session_key=session_key).delete()
            return UserSession.objects.create(user=user, created_at=now, **fields)
        for name, value in fields.items():
            setattr(row, name, value)
        row.save(update_fields=list(fields))
    return row


def _end(rows, *, user, request, reason):
    ended = 0
    for row in rows:
        session_store(row.session_key).delete()
        row.delete()
        ended += 1
    if ended:
        security_log(user=user, action=SecurityEvent.Action.SESSION_ENDED, request=request,
                     reason=reason, count=ended)
    return ended


def session_end(*, user: User, session_id: int, request: HttpRequest | None = None) -> int:
    """End one of the customer's sessions (another customer's id ends nothing)."""
    return _end(UserSession.objects.filter(user=user, pk=session_id), user=user,
                request=request, reason="ended by the customer")


def sessions_end_others(*, user: User, keep_session_key: str | None,
                        request: HttpRequest | None = None, reason: str = "") -> int:
    """End every session of the customer but `keep_session_key` (None: all of them):
    every session that made a request since it logged in has its row."""
    rows = UserSession.objects.filter(user=user).exclude(session_key=keep_session_key or "")
    return _end(list(rows), user=user, request=request,
                reason=reason or "all other sessions ended by the customer")


def sessions_end_for_users(*, user_ids, keep_session_key: str | None,
                           request: HttpRequest | None = None, reason: str) -> int:
    """End every recorded session of the accounts `user_ids` (a list or a queryset of
    ids) but `keep_session_key`: after a primary-email change, applied by the customer
    (who keeps this session), by support or by the 24-hour rule."""
    rows = list(UserSession.objects.filter(user_id__in=user_ids)
                .exclude(session_key=keep_session_key or "").select_related("user"))
    by_user = {}
    for row in rows:
        by_user.setdefault(row.user, []).append(row)
    return sum(_end(user_rows, user=user, request=request, reason=reason)
               for user, user_rows in by_user.items())
