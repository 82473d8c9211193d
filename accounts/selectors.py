"""Reads that the accounts pages show, ready for their templates (no query left to run
in a template)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from importlib import import_module

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.paginator import Page
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from accounts.models import (
    AuthenticatorApp,
    BackupCode,
    EmailChangeRequest,
    SecurityEvent,
    SecurityKey,
    User,
    UserSession,
)
from portal.db import ReusableQuery, page_of
from portal.requestinfo import browser_and_system
from portal.text import normalise_email

SECURITY_EVENTS_PER_PAGE = 20
# Two initials and six digits, the shape of every NIC handle (accounts.nic); the suffix
# may be left out.
NIC_HANDLE_SHAPE = re.compile(r"[a-z]{2}[0-9]{6}")


def customers_by_login(*, term: str) -> QuerySet[User] | None:
    """The customer a staff search names exactly, or None when the term is not shaped
    like a NIC handle or an email address (the caller then searches names).

    A NIC handle (with or without its suffix, any case) or a whole email address (the
    primary or the spare one) is looked up in normal form through the case-blind
    indexes: an index probe whatever the number of customers, where a substring search
    reads the whole table."""
    term = term.strip()
    if not term or any(char.isspace() for char in term):
        return None
    suffix = settings.NIC_SUFFIX.lower()
    handle = term.lower()
    if NIC_HANDLE_SHAPE.fullmatch(handle.removesuffix(suffix)):
        return User.objects.filter_by_login(handle.removesuffix(suffix) + suffix)
    local, _at, domain = term.rpartition("@")
    if local and "." in domain:  # a whole address; "@example.org" searches the text
        try:
            address = normalise_email(term)
        except ValidationError:
            return User.objects.none()
        return User.objects.filter(Q(email__lower=address) | Q(spare_email__lower=address))
    return None


def _pending_change_rows(user_id):
    return (EmailChangeRequest.objects.filter(user_id=user_id,
                                              state=EmailChangeRequest.State.TODO)
            .values_list(*_CHANGE_COLUMNS))


_CHANGE_COLUMNS = [field.attname for field in EmailChangeRequest._meta.concrete_fields]
_PENDING_CHANGE = ReusableQuery(_pending_change_rows)


def email_change_pending(*, user: User) -> EmailChangeRequest | None:
    """The customer's pending email change, if any (at most one: a database rule)."""
    rows = _PENDING_CHANGE.rows(limit=1, user_id=user.pk)
    if not rows:
        return None
    return EmailChangeRequest.from_db(EmailChangeRequest.objects.db, _CHANGE_COLUMNS, rows[0])


def security_events(*, user: User, page: str | int | None) -> Page:
    """One page of the customer's security log, newest first: what, when, from where,
    and whether someone else did it (`actor_id`)."""
    events = user.security_events.only("created_at", "action", "detail", "ip_address",
                                       "actor_id", "user_id")
    return page_of(events, page, SECURITY_EVENTS_PER_PAGE)


def second_factor_status(*, user: User) -> dict:
    """What the security page says about the second factor: the authenticator app (when
    added), the security keys (their names are listed) and how many backup codes
    remain. Three plain queries: cheaper to build than one with subqueries."""
    totp_added_at = (AuthenticatorApp.objects.filter(user=user, confirmed=True).order_by("pk")
                     .values_list("created_at", flat=True).first())
    keys = security_keys(user=user)
    return {
        "enabled": totp_added_at is not None or bool(keys),
        "totp": totp_added_at is not None,
        "keys": keys,
        "totp_added_at": totp_added_at,
        "backup_codes_remaining": BackupCode.objects.filter(user=user, used_at=None).count(),
    }


@dataclass(frozen=True)
class ActiveSession:
    id: int
    browser: str
    system: str
    ip_address: str | None
    first_seen: datetime
    last_seen: datetime
    this_device: bool


_SESSIONS = ReusableQuery(lambda user_id: (
    UserSession.objects.filter(user_id=user_id).order_by("-last_seen_at", "-pk")
    .values_list("pk", "session_key", "user_agent", "ip_address", "created_at", "last_seen_at")))


def _sessions_with_their_expiry(user_id):
    """The rows with the sessions table's expiry of each (the database backend only)."""
    from django.contrib.sessions.models import Session

    return (UserSession.objects.filter(user_id=user_id).order_by("-last_seen_at", "-pk")
            .annotate(expires=Subquery(Session.objects.filter(
                session_key=OuterRef("session_key")).values("expire_date")[:1]))
            .values_list("pk", "session_key", "user_agent", "ip_address", "created_at",
                         "last_seen_at", "expires"))


_SESSIONS_WITH_EXPIRY = ReusableQuery(_sessions_with_their_expiry)


def sessions_active(*, user: User, current_session_key: str | None) -> list[ActiveSession]:
    """The customer's sessions that still exist in SESSION_ENGINE, most recently seen
    first, this one marked. On the database backend one query reads them with their
    expiry; on a cache backend each is looked up (a customer has a handful). The user
    agent is read once per process and distinct string
    (portal.requestinfo.browser_and_system)."""
    if settings.SESSION_ENGINE == "django.contrib.sessions.backends.db":
        now = timezone.now()
        rows = _SESSIONS_WITH_EXPIRY.rows(user_id=user.pk)
        alive = {row[1] for row in rows if row[6] is not None and row[6] > now}
    else:
        rows = _SESSIONS.rows(user_id=user.pk)
        store = import_module(settings.SESSION_ENGINE).SessionStore
        alive = {row[1] for row in rows if store().exists(row[1])}
    sessions = []
    for pk, session_key, agent, ip_address, created_at, last_seen_at, *_expires in rows:
        if session_key not in alive and session_key != current_session_key:
            continue
        browser, system = browser_and_system(agent)
        sessions.append(ActiveSession(
            id=pk, browser=browser, system=system, ip_address=ip_address,
            first_seen=created_at, last_seen=last_seen_at,
            this_device=session_key == current_session_key))
    return sessions


def security_keys(*, user: User) -> list[SecurityKey]:
    return list(SecurityKey.objects.filter(user=user).defer("public_key"))


RECENT_LOGINS = 3


def recent_logins(*, user: User) -> list[SecurityEvent]:
    """The customer's last successful logins from the security log, newest first."""
    return list(user.security_events.filter(action=SecurityEvent.Action.LOGIN)
                .order_by("-created_at", "-pk")[:RECENT_LOGINS])
