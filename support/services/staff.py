"""Staff's side, from admin: reply (the customer is emailed), internal notes (never
shown to the customer), status changes and assignment. Each is logged with the agent's
name (SupportEvent)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.services import email_queue
from portal.errors import DomainError
from portal.links import portal_url
from support.models import SupportEvent, SupportMessage, SupportRequest
from support.services.common import event_log, message_add, request_locked, status_set

if TYPE_CHECKING:
    from datetime import datetime

    from accounts.models import User


def support_request_staff_reply(*, support_request: SupportRequest, staff_user: User, body: str,
                                status: str = SupportRequest.Status.WAITING, attachments=(),
                                now: datetime | None = None) -> SupportMessage:
    """1. Add the reply (by default the request then waits for the customer).
    2. Log it, and the status change, with the agent's name.
    3. Email the customer: no secret, a link to the request's page."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = request_locked(support_request)
        message = message_add(support_request=locked, kind=SupportMessage.Kind.REPLY,
                              author=staff_user, body=body, attachments=attachments, now=now)
        changed = status_set(locked, status, now=now)
        locked.last_message_at = now
        locked.save(update_fields=["status", "status_changed_at", "last_message_at"])
        event_log(support_request=locked, action=SupportEvent.Action.REPLIED, actor=staff_user,
                  now=now, message=message.pk)
        if changed:
            event_log(support_request=locked, action=SupportEvent.Action.STATUS,
                      actor=staff_user, now=now, status=status)
        customer = locked.customer
        email_queue(template="support_reply", to=customer.email, user=customer,
                    context={"number": locked.number, "subject": locked.subject,
                             "support_url": portal_url(reverse("support:request",
                                                               args=[locked.number]))})
    support_request.refresh_from_db()
    return message


def support_request_note(*, support_request: SupportRequest, staff_user: User, body: str,
                         now: datetime | None = None) -> SupportMessage:
    """An internal note: staff only, no email, no status change."""
    now = now or timezone.now()
    with transaction.atomic():
        message = SupportMessage.objects.create(request=support_request,
                                                kind=SupportMessage.Kind.NOTE,
                                                author=staff_user, body=body, created_at=now)
        event_log(support_request=support_request, action=SupportEvent.Action.NOTE,
                  actor=staff_user, now=now, message=message.pk)
    return message


def support_request_set_status(*, support_request: SupportRequest, staff_user: User,
                               status: str, now: datetime | None = None) -> bool:
    """False when the request already had this status."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = request_locked(support_request)
        if not status_set(locked, status, now=now):
            return False
        locked.save(update_fields=["status", "status_changed_at"])
        event_log(support_request=locked, action=SupportEvent.Action.STATUS, actor=staff_user,
                  now=now, status=status)
    support_request.refresh_from_db()
    return True


def support_request_assign(*, support_request: SupportRequest, staff_user: User,
                           assignee: User | None, now: datetime | None = None) -> bool:
    """Give the request to an agent (a staff member), or to nobody. False when nothing
    changed."""
    if assignee is not None and not assignee.is_staff:
        raise DomainError(_("Requests are assigned to staff members only."), field="assignee")
    now = now or timezone.now()
    with transaction.atomic():
        locked = request_locked(support_request)
        if locked.assignee_id == (assignee.pk if assignee else None):
            return False
        locked.assignee = assignee
        locked.save(update_fields=["assignee"])
        event_log(support_request=locked, action=SupportEvent.Action.ASSIGNED,
                  actor=staff_user, now=now,
                  assignee=assignee.nic_handle if assignee else None)
    support_request.refresh_from_db()
    return True
