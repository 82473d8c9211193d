"""The customer's side: open a request, answer, close, reopen within the window."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services.common import rate_limit
from portal.errors import DomainError
from support.models import SupportEvent, SupportMessage, SupportRequest
from support.services.common import event_log, message_add, request_locked, status_set

if TYPE_CHECKING:
    from datetime import datetime

    from accounts.models import User
    from billing.models import Invoice, Service

OPEN_LIMIT = (5, 3600)  # requests a customer may open per hour
REPLY_LIMIT = (30, 3600)  # answers a customer may post per hour


class SupportRefused(DomainError):
    """The request cannot do that now; the message says why."""


def support_request_open(*, customer: User, category: str, subject: str, body: str,
                         service: Service | None = None, invoice: Invoice | None = None,
                         attachments=(), now: datetime | None = None) -> SupportRequest:
    """1. Count the attempt (RateLimited past OPEN_LIMIT).
    2. Check the service and invoice are the customer's own.
    3. Write the request under the customer's NIC handle, with a readable number, its
       first message and attachments (AttachmentRefused: nothing is written)."""
    rate_limit(f"support-open:{customer.pk}", OPEN_LIMIT)
    if (service and service.customer_id != customer.pk) or (
            invoice and invoice.customer_id != customer.pk):
        raise SupportRefused(_("Choose one of your own services and invoices."))
    now = now or timezone.now()
    with transaction.atomic():
        support_request = SupportRequest.objects.create(
            number=uuid.uuid4().hex[:16], customer=customer,
            nic_handle=customer.nic_handle, category=category, service=service,
            invoice=invoice, subject=subject, created_at=now, status_changed_at=now,
            last_message_at=now)
        support_request.number = SupportRequest.number_for(support_request.pk)
        support_request.save(update_fields=["number"])
        message_add(support_request=support_request, kind=SupportMessage.Kind.CUSTOMER,
                    author=customer, body=body, attachments=attachments, now=now)
        event_log(support_request=support_request, action=SupportEvent.Action.OPENED,
                  actor=customer, now=now)
    return support_request


def support_request_reply(*, support_request: SupportRequest, customer: User, body: str,
                          attachments=(), now: datetime | None = None) -> SupportMessage:
    """The customer answers: the request is open again (waiting for staff). A closed
    request takes no answer: reopen it first, within the window."""
    rate_limit(f"support-reply:{customer.pk}", REPLY_LIMIT)
    now = now or timezone.now()
    with transaction.atomic():
        locked = request_locked(support_request)
        if locked.customer_id != customer.pk:
            raise SupportRefused(_("This request is not yours."))
        if locked.is_closed:
            raise SupportRefused(_("This request is closed."))
        message = message_add(support_request=locked, kind=SupportMessage.Kind.CUSTOMER,
                              author=customer, body=body, attachments=attachments, now=now)
        status_set(locked, SupportRequest.Status.OPEN, now=now)
        locked.last_message_at = now
        locked.save(update_fields=["status", "status_changed_at", "last_message_at"])
        event_log(support_request=locked, action=SupportEvent.Action.CUSTOMER_REPLIED,
                  actor=customer, now=now, message=message.pk)
    return message


def support_request_close(*, support_request: SupportRequest, customer: User,
                          now: datetime | None = None) -> bool:
    """The customer has the answer they needed. False when it was already closed."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = request_locked(support_request)
        if locked.customer_id != customer.pk or not status_set(
                locked, SupportRequest.Status.CLOSED, now=now):
            return False
        locked.save(update_fields=["status", "status_changed_at"])
        event_log(support_request=locked, action=SupportEvent.Action.STATUS, actor=customer,
                  now=now, status=locked.status)
    return True


def support_request_reopen(*, support_request: SupportRequest, customer: User,
                           now: datetime | None = None) -> SupportRequest:
    """A closed request opens again for REOPEN_WINDOW after it was closed; after that a
    new request is needed (SupportRefused)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = request_locked(support_request)
        if locked.customer_id != customer.pk or not locked.is_closed:
            raise SupportRefused(_("This request is not closed."))
        if not locked.may_be_reopened(now):
            raise SupportRefused(_("This request was closed more than 7 days ago: please "
                                   "open a new one."))
        status_set(locked, SupportRequest.Status.OPEN, now=now)
        locked.save(update_fields=["status", "status_changed_at"])
        event_log(support_request=locked, action=SupportEvent.Action.REOPENED, actor=customer,
                  now=now)
    return locked
