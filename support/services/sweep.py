"""The beat job: requests waiting for the customer for 14 days are closed, with a
notice."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from notifications.services import email_queue
from portal.links import portal_url
from support.models import AUTO_CLOSE_AFTER, SupportEvent, SupportRequest
from support.services.common import event_log

if TYPE_CHECKING:
    from datetime import datetime

AUTO_CLOSE_BATCH = 500


def support_requests_auto_close(*, now: datetime | None = None) -> int:
    """1. Read a batch of requests waiting for the customer since before now - 14 days
       (the queue index serves it).
    2. Claim each with a conditional UPDATE (still waiting, still as old): only the run
       that changed the row logs it and emails the notice, so two runs at once close
       and tell once, and a customer's answer in between wins.
    Returns how many were closed."""
    now = now or timezone.now()
    cutoff = now - AUTO_CLOSE_AFTER
    due = list(SupportRequest.objects.filter(
        status=SupportRequest.Status.WAITING, status_changed_at__lt=cutoff,
    ).order_by("status_changed_at").values_list("pk", flat=True)[:AUTO_CLOSE_BATCH])
    closed = 0
    for pk in due:
        with transaction.atomic():
            if not SupportRequest.objects.filter(
                    pk=pk, status=SupportRequest.Status.WAITING, status_changed_at__lt=cutoff,
            ).update(status=SupportRequest.Status.CLOSED, status_changed_at=now):
                continue
            support_request = SupportRequest.objects.select_related("customer").get(pk=pk)
            event_log(support_request=support_request, action=SupportEvent.Action.AUTO_CLOSED,
                      actor=None, now=now)
            customer = support_request.customer
            email_queue(template="support_auto_closed", to=customer.email, user=customer,
                        context={"number": support_request.number,
                                 "subject": support_request.subject,
                                 "days": AUTO_CLOSE_AFTER.days,
                                 "support_url": portal_url(reverse(
                                     "support:request", args=[support_request.number]))})
            closed += 1
    return closed
