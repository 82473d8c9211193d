"""Unpaid invoices past their due date: a reminder at due + 3 days, another at + 10, and
at + 15 the services the invoice bills are suspended (the customer is told). Paying the
invoice (billing.services.invoices.invoice_mark_paid) makes them active again.

Each step is recorded on the invoice (first_reminder_at, second_reminder_at,
suspended_at) by a conditional UPDATE that also requires the invoice to be unpaid: that
claim is what makes a step happen once, even with two runs at once, and never after
the payment. An invoice the job reaches late gets only the step it has reached: the
steps it skipped are recorded as passed at the same time, so no stale reminder follows
a suspension."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from billing.models import Invoice, InvoiceLine, Service
from billing.services.bank_transfer import transfer_instructions
from notifications.services import email_queue

log = logging.getLogger(__name__)

BATCH = 500
# Services that stop when their invoice is 15 days overdue: a cancelled one stays so.
SUSPENDABLE = (Service.Status.PENDING, Service.Status.ACTIVE, Service.Status.EXPIRED)


@dataclass(frozen=True)
class Step:
    field: str
    after_due: timedelta
    earlier: tuple[str, ...]  # the steps before this one


FIRST_REMINDER = Step("first_reminder_at", timedelta(days=3), ())
SECOND_REMINDER = Step("second_reminder_at", timedelta(days=10), ("first_reminder_at",))
SUSPENSION = Step("suspended_at", timedelta(days=15), ("first_reminder_at", "second_reminder_at"))
# Latest first: an invoice reached late takes the step it is at, which marks the others.
STEPS = (SUSPENSION, SECOND_REMINDER, FIRST_REMINDER)


def invoices_dun_due(*, now: datetime | None = None) -> dict[str, int]:
    """Run every step that has come for unpaid invoices, in bounded batches.

    1. For each step, latest first, list the unpaid issued invoices due at least that
       long ago whose step is not recorded (the partial index on due_at covers it).
    2. For each, in its own transaction: claim the step (a conditional UPDATE on an
       unpaid invoice whose step is still empty; another run or a payment that got
       there first leaves nothing to claim), then act: queue the reminder, or suspend
       the services and queue the notice.
    3. A failing invoice is logged and skipped: its claim rolls back with it, so the
       next run tries again, and it cannot stop the others.
    Returns how many invoices took each step."""
    now = now or timezone.now()
    done = {}
    for step in STEPS:
        due = list(Invoice.objects.filter(
            status=Invoice.Status.ISSUED, paid_at__isnull=True, due_at__lte=now - step.after_due,
            **{f"{step.field}__isnull": True},
        ).order_by("due_at", "pk").values_list("pk", flat=True)[:BATCH])
        count = 0
        for invoice_id in due:
            try:
                count += _take_step(invoice_id=invoice_id, step=step, now=now)
            except Exception:
                log.exception("Invoice %s: could not take the step %s", invoice_id, step.field)
        done[step.field] = count
    return done


def _take_step(*, invoice_id: int, step: Step, now: datetime) -> bool:
    with transaction.atomic():
        claimed = Invoice.objects.filter(
            Q(pk=invoice_id, status=Invoice.Status.ISSUED, paid_at__isnull=True),
            **{f"{step.field}__isnull": True},
        ).update(**{step.field: now}, **{field: Coalesce(field, now) for field in step.earlier})
        if not claimed:
            return False
        invoice = Invoice.objects.select_related("customer").get(pk=invoice_id)
        if invoice.amount_due <= 0:
            # Settled by credit notes (or account credit) without a payment closing it:
            # the step is recorded as passed, and nobody is reminded or suspended.
            return False
        billed = InvoiceLine.objects.filter(invoice=invoice, service__isnull=False)
        services = list(Service.objects.select_for_update(of=("self",))
                        .filter(pk__in=billed.values("service_id"))
                        .select_related("product", "customer", "billing_contact")
                        .order_by("pk"))
        if step is SUSPENSION:
            suspended = [service for service in services if service.status in SUSPENDABLE]
            Service.objects.filter(pk__in=[s.pk for s in suspended]).update(
                status=Service.Status.SUSPENDED)
            _tell(invoice=invoice, services=services, template="services_suspended",
                  context={"suspended": suspended})
        else:
            _tell(invoice=invoice, services=services, template="invoice_reminder",
                  context={"second": step is SECOND_REMINDER})
    return True


def invoice_reminder_recipients(*, invoice: Invoice, services: list[Service]) -> list[User]:
    """Who hears about an unpaid invoice: the account it is issued to, and for each
    service it bills, the billing contact and the account holder when they differ."""
    people = {invoice.customer_id: invoice.customer}
    for service in services:
        people.setdefault(service.billing_contact_id, service.billing_contact)
        people.setdefault(service.customer_id, service.customer)
    return list(people.values())


def _tell(*, invoice: Invoice, services: list[Service], template: str, context: dict) -> None:
    transfer = transfer_instructions(invoice=invoice)
    for person in invoice_reminder_recipients(invoice=invoice, services=services):
        # Only the account the invoice is issued to can open its pages.
        own = person.pk == invoice.customer_id
        email_queue(template=template, to=person.email, user=person, context={
            **context, "invoice": invoice, "services": services, "transfer": transfer,
            "own_invoice": own, "suspension_on": invoice.due_at + SUSPENSION.after_due,
            "pay_path": reverse("billing:invoice-pay", args=[invoice.number]) if own else "",
            "services_path": reverse("billing:services"),
        })
