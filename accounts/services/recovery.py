""""I can no longer access my email": requests looked up by a worker, decided by staff."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import (
    EmailChangeRequest,
    RecoveryRequest,
    SecurityEvent,
    User,
)
from accounts.security import security_log
from accounts.services.common import EmailChangeError, rate_limit, staff_may_manage
from accounts.services.email_change_outcomes import email_change_close
from accounts.services.password import password_reset_url
from accounts.services.second_factor import second_factor_enabled, second_factor_remove
from notifications.services import email_queue
from portal.links import portal_url
from portal.queueing import task_send, task_send_on_commit
from portal.requestinfo import client_ip
from portal.text import normalise_email

if TYPE_CHECKING:
    from datetime import datetime

    from django.http import HttpRequest

log = logging.getLogger(__name__)

RECOVERY_LIMIT_PER_IP = (5, 3600)
RECOVERY_CANCEL_SALT = "accounts.recovery.cancel"
RECOVERY_REQUEUE_AFTER = timedelta(minutes=2)
RECOVERY_TASK = "accounts.tasks.process_recovery_request_task"
RECOVERY_REQUEUE_WITHIN = timedelta(days=1)


def recovery_rate_limit(*, request: HttpRequest | None) -> None:
    """Count a recovery request from this IP address before the form is read, so that
    the limit never depends on what was typed. Raises RateLimited."""
    rate_limit(f"recovery-ip:{client_ip(request)}", RECOVERY_LIMIT_PER_IP)


def recovery_request_create(
        *, nic_handle: str, new_email: str, message: str,
        request: HttpRequest | None = None) -> RecoveryRequest:
    """Record an "I can no longer access my email" request and hand it to a worker. The
    web request writes this one row and looks nothing up: the answer and the work are
    the same whether or not the NIC handle exists and whether or not the new address is
    taken. The caller applied recovery_rate_limit first; recovery_request_process does
    the rest."""
    with transaction.atomic():
        recovery = RecoveryRequest.objects.create(
            nic_handle=nic_handle.strip()[:32], new_email=normalise_email(new_email),
            message=message, ip_address=client_ip(request),
            language=translation.get_language() or settings.LANGUAGE_CODE,
        )
        task_send_on_commit(RECOVERY_TASK, recovery.pk)
    return recovery


def recovery_request_process(*, recovery_id: int) -> RecoveryRequest | None:
    """In the worker:
    1. Claim the request (a request handed over twice is handled once).
    2. Find the active account with the NIC handle typed, in any case.
    3. If there is one, the request becomes its own (only then do staff see it), with
       its current address; it is logged, and the current address gets a notice with a
       link to cancel. Whether the new address is taken is left to the decision
       (recovery_request_approve refuses an address used by another account).
    4. Either way the new address is told that the request was received, in the
       language of the page it was made from, without any detail of an account.
    Returns the request when it matched an account."""
    with transaction.atomic():
        if not RecoveryRequest.objects.filter(pk=recovery_id, processed_at=None).update(
            processed_at=timezone.now()
        ):
            return None
        recovery = RecoveryRequest.objects.get(pk=recovery_id)
        user = User.objects.filter_by_login(recovery.nic_handle).filter(is_active=True).first()
        if user is not None:
            recovery.user, recovery.old_email = user, user.email
            recovery.save(update_fields=["user", "old_email"])
            security_log(user=user, action=SecurityEvent.Action.RECOVERY_REQUESTED,
                         ip_address=recovery.ip_address, new_email=recovery.new_email,
                         recovery=recovery.pk)
            token = signing.dumps({"r": recovery.pk}, salt=RECOVERY_CANCEL_SALT)
            email_queue(template="recovery_notice", to=user.email, user=user,
                        context={"recovery": recovery,
                                 "second_factor": second_factor_enabled(user=user)},
                        secrets={"cancel_url": portal_url(
                            reverse("accounts:account-recovery-cancel", args=[token]))})
        email_queue(template="recovery_received", to=recovery.new_email, user=None,
                    language=recovery.language or settings.LANGUAGE_CODE,
                    context={"nic_handle_given": recovery.nic_handle})
    return recovery if user is not None else None


def recovery_requests_requeue_stale(*, now: datetime | None = None) -> int:
    """Requests the broker lost (it was down at commit): hand them to a worker again.
    Processing claims each one, so a request sent twice is still handled once."""
    now = now or timezone.now()
    stale = RecoveryRequest.objects.filter(
        processed_at=None, created_at__lt=now - RECOVERY_REQUEUE_AFTER,
        created_at__gt=now - RECOVERY_REQUEUE_WITHIN,
    ).values_list("pk", flat=True)[:500]
    for recovery_id in stale:
        task_send(RECOVERY_TASK, recovery_id)
    return len(stale)


def recovery_from_token(token: str) -> RecoveryRequest | None:
    try:
        data = signing.loads(token, salt=RECOVERY_CANCEL_SALT, max_age=30 * 24 * 3600)
    except signing.BadSignature:
        return None
    return RecoveryRequest.objects.select_related("user").filter(pk=data.get("r")).first()


def _recovery_close(recovery, *, state, actor=None, reason="", request=None):
    closed = RecoveryRequest.objects.filter(
        pk=recovery.pk, state=RecoveryRequest.State.PENDING
    ).update(state=state, decided_at=timezone.now(), decided_by=actor, reason=reason)
    if closed:
        recovery.refresh_from_db()
    return bool(closed)


def recovery_request_cancel(
        *, recovery: RecoveryRequest, request: HttpRequest | None = None) -> bool:
    with transaction.atomic():
        if _recovery_close(recovery, state=RecoveryRequest.State.CANCELLED, request=request):
            security_log(user=recovery.user, action=SecurityEvent.Action.RECOVERY_CANCELLED,
                         request=request, recovery=recovery.pk)
            return True
    return False


def recovery_request_approve(
        *, recovery: RecoveryRequest, staff_user: User, reason: str,
        request: HttpRequest | None = None) -> RecoveryRequest:
    """1. Close the request (only if still pending).
    2. The primary address becomes the new one (unconfirmed until the customer uses it);
       a pending email change is aborted.
    3. The second factor (authenticator app, security keys, backup codes) is removed:
       whoever lost the mailbox has often lost the phone too. Only here, on a staff
       decision; a request that is refused or cancelled leaves it.
    4. The new address gets a reset link; the old one a notice; both say whether the
       second factor was removed.
    Only a superuser decides for a staff account (StaffActionRefused)."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=recovery.user_id)
        staff_may_manage(user=user, staff_user=staff_user)
        if User.objects.email_in_use(recovery.new_email, exclude=user):
            raise EmailChangeError(_("The new address is used by another account."))
        if not _recovery_close(recovery, state=RecoveryRequest.State.APPROVED,
                               actor=staff_user, reason=reason):
            raise EmailChangeError(_("This request is no longer pending."))
        pending = EmailChangeRequest.objects.filter(user=user,
                                                    state=EmailChangeRequest.State.TODO).first()
        if pending:
            email_change_close(pending, state=EmailChangeRequest.State.ABORTED,
                                now=timezone.now(), reason=EmailChangeRequest.Reason.RECOVERY,
                                actor=staff_user)
        old_email = user.email
        user.email = recovery.new_email
        user.email_confirmed_at = None
        user.save(update_fields=["email", "email_confirmed_at"])
        security_log(user=user, action=SecurityEvent.Action.RECOVERY_APPROVED, request=request,
                     actor=staff_user, old_email=old_email, new_email=user.email,
                     reason=reason, recovery=recovery.pk)
        second_factor_removed = second_factor_remove(
            user=user, request=request, actor=staff_user, reason="recovery", notify=False)
        email_queue(template="recovery_approved", to=user.email, user=user,
                    context={"valid_minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
                             "second_factor_removed": second_factor_removed},
                    secrets={"reset_url": password_reset_url(user)})
        email_queue(template="email_changed", to=old_email, user=user,
                    context={"old_email": old_email, "new_email": user.email,
                             "second_factor_removed": second_factor_removed})
    return recovery


def recovery_request_refuse(
        *, recovery: RecoveryRequest, staff_user: User, reason: str,
        request: HttpRequest | None = None) -> RecoveryRequest:
    with transaction.atomic():
        staff_may_manage(user=recovery.user, staff_user=staff_user)
        if not _recovery_close(recovery, state=RecoveryRequest.State.REFUSED, actor=staff_user,
                               reason=reason):
            raise EmailChangeError(_("This request is no longer pending."))
        security_log(user=recovery.user, action=SecurityEvent.Action.RECOVERY_REFUSED,
                     request=request, actor=staff_user, reason=reason, recovery=recovery.pk)
        # The new address is not (yet) the account's: no name, no NIC handle in this one.
        email_queue(template="recovery_refused", to=recovery.new_email, user=None,
                    language=recovery.user.language, context={"reason": reason})
    return recovery
