"""Payments: money applied to an issued invoice, from a bank transfer (reconciliation),
staff ("Mark paid") or the customer's account credit. One service records them all, so
every path delivers the services and tells the customer the same way.

An invoice never receives more than it has due: the rest of a transfer becomes account
credit, which the next invoice issued uses first (payment_apply_credit)."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db import transaction
from django.urls import reverse

from accounts.models import SecurityEvent, User
from accounts.security import security_log
from billing.models import (
    CreditMovement,
    CreditNote,
    Invoice,
    InvoiceLine,
    Payment,
    Service,
    StatementEntry,
    credit_balance,
    period_end,
)
from billing.money import money
from billing.services.invoice_list import invoice_list_changed
from notifications.services import email_queue

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class PaymentOutcome:
    applied: Decimal  # recorded against the invoice
    credited: Decimal  # the rest, made account credit
    due_before: Decimal  # what the invoice had due when the payment came
    settled: bool  # this payment paid the invoice off (its services were delivered)


def invoice_due_locked(invoice_id: int) -> tuple[Invoice, Decimal]:
    """Lock an issued invoice and read what it has due, from the database: the caller
    holds the lock until its transaction ends, so two payments never both see the same
    amount due."""
    invoice = (Invoice.objects.select_for_update(of=("self",)).select_related("customer")
               .get(pk=invoice_id, status=Invoice.Status.ISSUED))
    # What was paid and what was credited both reduce the amount due: one query for both.
    taken = (Payment.objects.filter(invoice_id=invoice_id).order_by().values_list("amount")
             .union(CreditNote.objects.filter(invoice_id=invoice_id).order_by()
                    .values_list("total"), all=True))
    return invoice, max(invoice.total - sum((row[0] for row in taken), ZERO), ZERO)


def payment_record(*, invoice: Invoice, amount: Decimal | None, method: str, now: datetime,
                   received_on: date | None = None, staff_user: User | None = None,
                   bank_reference: str = "",
                   statement_entry: StatementEntry | None = None,
                   list_changed: bool = True) -> PaymentOutcome:
    """1. Lock the invoice and read what it has due (`amount=None`: pay exactly that).
    2. Record a payment of what the invoice can take; the rest becomes account credit.
    3. When this pays it off: mark it paid, deliver each service it bills, log it in the
       customer's security log and email each service's technical contact.
    Run in the caller's transaction when there is one (a statement import is one), without
    a savepoint of its own: an error aborts the caller's transaction. `list_changed=False`
    leaves the customer's invoice-list version to the caller (a statement import bumps
    each customer's once, billing.services.invoice_list.invoice_lists_changed)."""
    with transaction.atomic(savepoint=False):
        invoice, due = invoice_due_locked(invoice.pk)
        amount = due if amount is None else money(amount)
        if amount < ZERO:
            raise ValueError("A payment is never negative")
        applied = min(amount, due)
        extra = amount - applied
        if applied:
            Payment.objects.create(
                invoice=invoice, amount=applied, received_on=received_on or now.date(),
                method=method, bank_reference=bank_reference, statement_entry=statement_entry,
                recorded_at=now, recorded_by=staff_user)
        if extra:
            CreditMovement.objects.create(
                customer_id=invoice.customer_id, kind=CreditMovement.Kind.OVERPAYMENT,
                amount=extra, created_at=now, invoice=invoice, statement_entry=statement_entry)
        settled = bool(applied) and applied == due and invoice.paid_at is None
        if settled:
            _invoice_settle(invoice=invoice, method=method, staff_user=staff_user, now=now)
        if (applied or extra) and list_changed:
            invoice_list_changed(customer_id=invoice.customer_id)
    return PaymentOutcome(applied=applied, credited=extra, due_before=due, settled=settled)


def payment_apply_credit(*, invoice: Invoice, now: datetime) -> Decimal:
    """Pay a newly issued invoice from its customer's account credit, as far as it goes:
    a payment "from account credit" and the matching movement out of the ledger. The
    customer's row is locked so the same credit is never spent twice. Returns the
    amount used."""
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=invoice.customer_id).first()
        available = credit_balance(invoice.customer_id)
        if available <= ZERO:
            return ZERO
        _locked, due = invoice_due_locked(invoice.pk)
        used = min(available, due)
        if not used:
            return ZERO
        CreditMovement.objects.create(customer_id=invoice.customer_id,
                                      kind=CreditMovement.Kind.USED, amount=-used,
                                      created_at=now, invoice_id=invoice.pk)
        payment_record(invoice=invoice, amount=used, method=Payment.Method.ACCOUNT_CREDIT,
                       now=now)
    return used


def _invoice_settle(*, invoice: Invoice, method: str, staff_user: User | None,
                    now: datetime) -> None:
    Invoice.objects.filter(pk=invoice.pk).update(paid_at=now, paid_by=staff_user)
    invoice.paid_at, invoice.paid_by = now, staff_user
    delivered = []
    for line in invoice.lines.exclude(service=None).order_by("position"):
        service = (Service.objects.select_for_update(of=("self",))
                   .select_related("product", "tech_contact").get(pk=line.service_id))
        delivered.append(_service_deliver(service=service, line=line, now=now))
    if staff_user is not None:  # marked paid, or a statement imported, by staff
        security_log(user=invoice.customer, action=SecurityEvent.Action.STAFF_ACTION,
                     actor=staff_user, invoice=invoice.number,
                     billing=("invoice_marked_paid" if method == Payment.Method.MANUAL
                              else "invoice_paid_by_transfer"))
    # A service notice: to each delivered service's technical contact.
    by_contact = {}
    for service in delivered:
        by_contact.setdefault(service.tech_contact_id, (service.tech_contact, []))[1].append(
            service)
    for contact, services in by_contact.values():
        email_queue(
            template="service_delivered", to=contact.email, user=contact,
            context={"invoice": invoice, "services": services,
                     "services_path": reverse("billing:services")},
        )


def _service_deliver(*, service: Service, line: InvoiceLine, now: datetime) -> Service:
    if line.period_start is None:
        # A new service: its first period starts when it is paid for.
        service.delivered_at = service.delivered_at or now
        service.expires_at = period_end(now, line.period or service.period)
    elif service.expires_at is None or service.expires_at < line.period_end:
        service.expires_at = line.period_end
    service.status = Service.Status.ACTIVE
    service.save(update_fields=["delivered_at", "expires_at", "status"])
    return service
