"""What support staff do to an account: bounded (only a superuser acts on a staff
account), logged, and told to the customer."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import (
    EmailChangeRequest,
    SecurityEvent,
    User,
)
from accounts.security import security_log
from accounts.services.common import EmailChangeError, staff_may_manage
from accounts.services.email_change_outcomes import (
    email_change_apply_or_abort,
    email_change_close,
    email_change_locked,
)
from accounts.services.password import password_reset_url
from notifications.services import email_queue

if TYPE_CHECKING:
    from django.http import HttpRequest

log = logging.getLogger(__name__)




def staff_account_changed(
        *, user: User, staff_user: User, what: str, request: HttpRequest | None = None,
        **detail) -> None:
    """A staff member changed this account: the security log keeps who, the customer is
    told by email (a security notice, never switched off). Called inside the caller's
    transaction, which a refusal rolls back."""
    staff_may_manage(user=user, staff_user=staff_user)
    security_log(user=user, action=SecurityEvent.Action.STAFF_ACTION, request=request,
                 actor=staff_user, what=what, **detail)
    # Field labels, not names: lazy, so they come out in the customer's language.
    labels = [User._meta.get_field(name).verbose_name for name in detail.get("fields", [])]
    email_queue(template="staff_action", to=user.email, user=user,
                context={"what": what, "detail": detail, "field_labels": labels})


def password_reset_send_by_staff(
        *, user: User, staff_user: User, request: HttpRequest | None = None) -> None:
    """Staff never set a password: they send the customer a reset link."""
    staff_may_manage(user=user, staff_user=staff_user)
    with transaction.atomic():
        security_log(user=user, action=SecurityEvent.Action.STAFF_ACTION, request=request,
                     actor=staff_user, what="password_reset_sent")
        email_queue(template="password_reset", to=user.email, user=user,
                    context={"valid_minutes": settings.PASSWORD_RESET_TIMEOUT // 60},
                    secrets={"reset_url": password_reset_url(user)})


def email_change_staff_abort(
        *, change: EmailChangeRequest, staff_user: User, reason: str,
        request: HttpRequest | None = None) -> EmailChangeRequest:
    with transaction.atomic():
        change = email_change_locked(change)
        staff_may_manage(user=change.user, staff_user=staff_user)
        if not email_change_close(change, state=EmailChangeRequest.State.ABORTED,
                                  now=timezone.now(),
                                  reason=EmailChangeRequest.Reason.SUPPORT_ABORTED,
                                  staff_note=reason, request=request, actor=staff_user,
                                  notify=True):
            raise EmailChangeError(_("This request is no longer pending."))
    return change


def email_change_staff_apply(
        *, change: EmailChangeRequest, staff_user: User, reason: str,
        request: HttpRequest | None = None) -> EmailChangeRequest:
    """Support applies a pending change at once (for instance after checking identity)."""
    with transaction.atomic():
        change = email_change_locked(change)
        staff_may_manage(user=change.user, staff_user=staff_user)
        if not change.is_pending:
            raise EmailChangeError(_("This request is no longer pending."))
        applied = email_change_apply_or_abort(
            change, now=timezone.now(), request=request, actor=staff_user,
            how=EmailChangeRequest.Reason.SUPPORT_APPLIED, staff_note=reason)
    if not applied:  # the abort and its notice are kept
        raise EmailChangeError(_("The new address is now used by another account; the "
                                 "request was aborted."))
    return change
