"""Invoices: a draft gets lines, is issued once (its number taken under a lock, its PDF
rendered after commit by a worker) and is paid when staff record the payment."""

import logging
import uuid
from datetime import datetime
from decimal import Decimal
from typing import NoReturn

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext

from accounts.models import SecurityEvent, User
from accounts.security import security_log
from billing.models import (
    NUMBER_PREFIX,
    Invoice,
    InvoiceLine,
    InvoiceSequence,
    Order,
    Period,
    Product,
    Service,
    period_end,
)
from billing.money import line_amounts, money
from notifications.services import email_queue
from portal.queueing import task_send_on_commit

log = logging.getLogger(__name__)

# Named, not imported: billing.tasks calls these services, so they never import it.
RENDER_PDF_TASK = "billing.tasks.render_invoice_pdf_task"
INVOICE_PDF_STYLESHEETS = ("css/invoice.css", "css/invoice-print.css")


def invoice_list_changed(*, customer_id: int) -> None:
    """Give the customer's invoice list a new version, in the caller's transaction: cached
    pages of the old version are never read again (billing.selectors.invoice_list). Call
    it whenever an issued invoice appears or changes what the list shows (its payment)."""
    User.objects.filter(pk=customer_id).update(invoice_list_version=uuid.uuid4())


def invoice_create(*, customer: User, kind: str, now: datetime, order: Order | None = None,
                   due_at: datetime | None = None) -> Invoice:
    """A draft invoice: lines can be added until it is issued."""
    return Invoice.objects.create(customer=customer, kind=kind, order=order, created_at=now,
                                  due_at=due_at)


def invoice_line_add(*, invoice: Invoice, description: str, unit_price: Decimal,
                     tax_rate: Decimal, quantity: int = 1, product: Product | None = None,
                     service: Service | None = None, period: str = "",
                     period_start: datetime | None = None,
                     period_end: datetime | None = None) -> InvoiceLine:
    """Add a line to a draft invoice. An issued invoice refuses (InvoiceIssued)."""
    unit_price = money(unit_price)
    net, tax, total = line_amounts(unit_price=unit_price, quantity=quantity, tax_rate=tax_rate)
    with transaction.atomic():
        # Checked on the locked row, not on a possibly stale instance.
        Invoice.objects.select_for_update().get(pk=invoice.pk).ensure_draft()
        return InvoiceLine.objects.create(
            invoice=invoice, position=invoice.lines.count(), product=product, service=service,
            description=description, period=period, period_start=period_start,
            period_end=period_end, quantity=quantity, unit_price=unit_price,
            tax_rate=tax_rate, net_amount=net, tax_amount=tax, total_amount=total,
        )


def invoice_line_description(*, service: Service, period: str, start: datetime | None = None,
                             end: datetime | None = None) -> str:
    """The text of the line billing `service`, in the language of the account billed (its
    billing contact), frozen on the invoice: one period of a new service, or a renewal
    from `start` to `end`."""
    with translation.override(service.billing_contact.language):
        label = f"{service.product.name} – {service.name}"
        if start and end:
            return gettext("%(service)s, renewal from %(start)s to %(end)s") % {
                "service": label, "start": date_format(start, "SHORT_DATE_FORMAT"),
                "end": date_format(end, "SHORT_DATE_FORMAT")}
        if period == Period.MONTH:
            return gettext("%(service)s, 1 month") % {"service": label}
        return gettext("%(service)s, 1 year") % {"service": label}


def invoice_number_next(*, year: int) -> int:
    """The next number of `year`, taken under a row lock held until the caller's
    transaction ends: a concurrent issue waits, and a rollback gives the number back."""
    InvoiceSequence.objects.bulk_create([InvoiceSequence(year=year)], ignore_conflicts=True)
    sequence = InvoiceSequence.objects.select_for_update().get(year=year)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return sequence.last_number


def invoice_issue(*, invoice: Invoice, now: datetime) -> Invoice:
    """1. Lock the draft (refuse one that is already issued).
    2. Freeze the totals (sums of the rounded lines), the customer and seller details.
    3. Take the next number of the year, in this same transaction.
    4. Once committed, render and store the PDF in a worker."""
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().select_related("customer").get(pk=invoice.pk)
        locked.ensure_draft()
        lines = list(locked.lines.all())
        if not lines:
            raise ValueError("An invoice needs at least one line")
        customer = locked.customer
        locked.subtotal = sum((line.net_amount for line in lines), money(0))
        locked.tax_total = sum((line.tax_amount for line in lines), money(0))
        locked.total = locked.subtotal + locked.tax_total
        locked.customer_nic_handle = customer.nic_handle
        locked.customer_name = customer.get_full_name()
        locked.customer_organisation = customer.organisation
        locked.customer_address = _postal_address(customer)
        locked.seller_name = settings.SELLER_NAME
        locked.seller_address = settings.SELLER_ADDRESS
        locked.seller_vat_number = settings.SELLER_VAT_NUMBER
        locked.year = now.year
        locked.sequence = invoice_number_next(year=now.year)
        locked.number = f"{NUMBER_PREFIX}{now.year}-{locked.sequence:06d}"
        locked.issued_at = now
        locked.due_at = locked.due_at or now
        locked.status = Invoice.Status.ISSUED
        locked.save()
        invoice_list_changed(customer_id=customer.pk)
        # A broker outage leaves the PDF to its first download (rendered then).
        task_send_on_commit(RENDER_PDF_TASK, locked.pk)
    invoice.refresh_from_db()
    return invoice


def _postal_address(customer: User) -> str:
    with translation.override(customer.language):
        country = str(customer.country.name) if customer.country else ""
    town = " ".join(part for part in (customer.zip, customer.city) if part)
    return "\n".join(part for part in (customer.address, town, country) if part)


def invoice_render_pdf(*, invoice: Invoice) -> bytes:
    """The PDF of an issued invoice, from the same template and stylesheet as its HTML
    page (the stylesheets are read from the static files' source, not fetched)."""
    from django.contrib.staticfiles import finders
    from weasyprint import CSS, HTML

    with translation.override(invoice.customer.language):
        html = render_to_string("billing/invoice_print.html", {"invoice": invoice})
    stylesheets = [CSS(filename=finders.find(name), url_fetcher=_no_fetch)
                   for name in INVOICE_PDF_STYLESHEETS]
    return HTML(string=html, url_fetcher=_no_fetch).write_pdf(stylesheets=stylesheets)


def _no_fetch(url: str, *args, **kwargs) -> NoReturn:
    # The invoice template and its stylesheets are self-contained; nothing is loaded.
    raise ValueError(f"Invoice PDFs load no external resource ({url})")


def invoice_store_pdf(*, invoice_id: int) -> str:
    """Render the PDF of an issued invoice once and store it; a no-op when it is stored.
    Returns the stored file's name.

    Two renders at once (a retried task, a download racing the worker) both produce the
    same document; the first to record its file wins and the other removes its copy,
    unless the storage gave both the same name (an object store has no exclusive create):
    then that one file is the winner's."""
    invoice = (Invoice.objects.select_related("customer").prefetch_related("lines")
               .get(pk=invoice_id, status=Invoice.Status.ISSUED))
    stored = invoice.pdf.name
    if stored and invoice.pdf.storage.exists(stored):
        return stored
    content = invoice_render_pdf(invoice=invoice)
    storage = invoice.pdf.storage
    name = storage.save(invoice.pdf_name(), ContentFile(content))
    if Invoice.objects.filter(pk=invoice.pk, pdf=stored).update(pdf=name):
        return name
    winner = Invoice.objects.values_list("pdf", flat=True).get(pk=invoice.pk)
    if name != winner:
        storage.delete(name)
    return winner


def invoice_mark_paid(*, invoice: Invoice, staff_user: User,
                      now: datetime | None = None) -> bool:
    """1. Claim the payment: only an issued, unpaid invoice changes (run twice: once).
    2. Deliver each service it bills: a new one starts now, a renewal extends the
       expiry to the end of the renewed period.
    3. Log it in the customer's security log and email each service's technical contact.
    Returns False when the invoice was already paid."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = Invoice.objects.filter(
            pk=invoice.pk, status=Invoice.Status.ISSUED, paid_at__isnull=True
        ).update(paid_at=now, paid_by=staff_user)
        if not claimed:
            return False
        invoice = Invoice.objects.select_related("customer").get(pk=invoice.pk)
        invoice_list_changed(customer_id=invoice.customer_id)
        delivered = []
        for line in invoice.lines.exclude(service=None).order_by("position"):
            service = (Service.objects.select_for_update(of=("self",))
                       .select_related("product", "tech_contact").get(pk=line.service_id))
            delivered.append(_service_deliver(service=service, line=line, now=now))
        security_log(user=invoice.customer, action=SecurityEvent.Action.STAFF_ACTION,
                     actor=staff_user, billing="invoice_marked_paid", invoice=invoice.number)
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
    return True


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
