"""Closing one email-change request (refused, aborted) or applying it, and applying
many at once: the one way a change is applied, by the code, by support and by the
24-hour rule alike."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import (
    BigIntegerField,
    DateTimeField,
    F,
    GenericIPAddressField,
    OuterRef,
    Subquery,
    Value,
)
from django.db.models.functions import JSONObject

from accounts.models import (
    EmailChangeRequest,
    SecurityEvent,
    User,
)
from accounts.security import security_log
from accounts.services.sessions import sessions_end_for_users
from notifications.services import email_queue, email_queue_select
from portal.db import insert_from_select
from portal.requestinfo import client_ip, user_agent

if TYPE_CHECKING:
    from datetime import datetime

    from django.http import HttpRequest

log = logging.getLogger(__name__)


def email_change_locked(change: EmailChangeRequest) -> EmailChangeRequest:
    """The request read again, its row locked until the transaction ends."""
    return EmailChangeRequest.objects.select_for_update().select_related("user").get(pk=change.pk)


def email_change_close(
        change: EmailChangeRequest, *, state: str, now: datetime | None, reason: str,
        staff_note: str = "", request: HttpRequest | None = None,
        actor: User | None = None, notify: bool = False) -> bool:
    """Close a pending request (refused or aborted) with a Reason code; log it and, with
    `notify`, tell the customer why. False when it was no longer pending."""
    closed = EmailChangeRequest.objects.filter(
        pk=change.pk, state=EmailChangeRequest.State.TODO
    ).update(state=state, decided_at=now, reason=reason, staff_note=staff_note)
    if not closed:
        return False
    change.state, change.decided_at = state, now
    change.reason, change.staff_note = reason, staff_note
    action = (SecurityEvent.Action.EMAIL_CHANGE_REFUSED if state == EmailChangeRequest.State.REFUSED
              else SecurityEvent.Action.EMAIL_CHANGE_ABORTED)
    security_log(user=change.user, action=action, request=request, actor=actor,
                 new_email=change.new_email, reason=reason)
    if notify:
        email_queue(template="email_change_cancelled", to=change.user.email, user=change.user,
                    context={"change": change})
    return True


def email_changes_apply_set(
        ids: list[int], *, now: datetime | None, how: str, staff_note: str = "",
        actor: User | None = None, request: HttpRequest | None = None) -> int:
    """Apply the pending requests `ids`, locked or claimed by the caller, whose new
    addresses are free and distinct, with one statement each: log the change, queue the
    notices to the old and new addresses (rendered by the worker), copy the new address
    (and its confirmation time) onto the accounts, mark the requests done. The one way a
    change is applied: by the code, by support and by the 24-hour rule alike. The
    database refusing an address (taken this very moment) raises IntegrityError."""
    changes = EmailChangeRequest.objects.filter(pk__in=ids, state=EmailChangeRequest.State.TODO)
    requests_of_user = changes.filter(user_id=OuterRef("pk"))
    # The notices and log lines read the old address from the requests, so they are
    # written before the accounts change.
    insert_from_select(SecurityEvent, {
        "user_id": F("user_id"), "action": Value(SecurityEvent.Action.EMAIL_CHANGED),
        "actor_id": Value(actor.pk if actor else None, output_field=BigIntegerField()),
        "ip_address": Value(client_ip(request) if request else None,
                            output_field=GenericIPAddressField()),
        "user_agent": Value(user_agent(request) if request else ""),
        "created_at": Value(now, output_field=DateTimeField()),
        "detail": JSONObject(old_email=F("old_email"), new_email=F("new_email"), how=Value(how)),
    }, changes)
    for address in ("old_email", "new_email"):
        email_queue_select(template="email_changed", source=changes, user=F("user_id"),
                           to=F(address), language=F("user__language"),
                           context={"old_email": F("old_email"), "new_email": F("new_email")})
    # Whoever holds another session of the account is logged out; the customer applying
    # the code keeps this one.
    sessions_end_for_users(
        user_ids=list(changes.values_list("user_id", flat=True)), request=request,
        keep_session_key=request.session.session_key if request is not None
        and hasattr(request, "session") else None, reason="primary email changed")
    User.objects.filter(pk__in=changes.values("user_id")).update(
        email=Subquery(requests_of_user.values("new_email")[:1]),
        email_confirmed_at=Subquery(requests_of_user.values("new_email_confirmed_at")[:1]),
    )
    return changes.update(state=EmailChangeRequest.State.DONE, decided_at=now, reason=how,
                          staff_note=staff_note)


def email_change_apply_or_abort(
        change: EmailChangeRequest, *, now: datetime | None, how: str,
        staff_note: str = "", request: HttpRequest | None = None,
        actor: User | None = None) -> bool:
    """Apply one locked request (email_changes_apply_set), or abort it with a notice when
    its new address is used by another account, found now or refused by the database."""
    user = change.user
    try:
        if not User.objects.email_in_use(change.new_email, exclude=user):
            with transaction.atomic():
                applied = email_changes_apply_set([change.pk], now=now, how=how,
                                                  staff_note=staff_note, actor=actor,
                                                  request=request)
            if applied:
                change.refresh_from_db()
                user.refresh_from_db(fields=["email", "email_confirmed_at"])
            return bool(applied)
    except IntegrityError:
        pass
    email_change_close(change, state=EmailChangeRequest.State.ABORTED, now=now,
                       reason=EmailChangeRequest.Reason.ADDRESS_TAKEN, request=request,
                       actor=actor, notify=True)
    return False
