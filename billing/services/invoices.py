"""Invoices: a draft gets lines, is issued once (its number taken under a lock, its PDF
rendered after commit by a worker) and is paid by the payments recorded against it (billing.services.payments)."""

import logging
from datetime import datetime, timedelta
from decimal import Decimal
from typing import NoReturn

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from accounts.models import User
from billing.models import (
    NUMBER_PREFIX,
    Invoice,
    InvoiceLine,
    InvoiceSequence,
    Order,
    Payment,
    Period,
    Product,
    Service,
)
from billing.money import line_amounts, money
from billing.services.bank_transfer import epc_qr_svg, transfer_instructions
from billing.vat import Reason, Treatment, vat_for
from billing.services.invoice_list import invoice_list_changed
from billing.services.payments import payment_apply_credit, payment_record
from portal.queueing import task_send_on_commit

log = logging.getLogger(__name__)

# Named, not imported: billing.tasks calls these services, so they never import it.
RENDER_PDF_TASK = "billing.tasks.render_invoice_pdf_task"
INVOICE_PDF_STYLESHEETS = ("css/invoice.css", "css/invoice-print.css")


def invoice_create(*, customer: User, kind: str, now: datetime,
                   order: Order | None = None) -> Invoice:
    """A draft invoice: lines can be added until it is issued."""
    return Invoice.objects.create(customer=customer, kind=kind, order=order, created_at=now)


def customer_vat(customer: User) -> Treatment:
    """The VAT `customer` pays now (billing.vat): frozen on each line written for them."""
    return vat_for(country=str(customer.country or ""), is_business=customer.is_business,
                   vat_number=customer.vat_number)


def invoice_line_add(*, invoice: Invoice, description: str, unit_price: Decimal,
                     tax_rate: Decimal, tax_reason: str = Reason.STANDARD,
                     tax_country: str = "", quantity: int = 1, product: Product | None = None,
                     service: Service | None = None, period: str = "",
                     period_start: datetime | None = None,
                     period_end: datetime | None = None) -> InvoiceLine:
    """Add a line to a draft invoice, with its VAT rate and the reason for it (stored,
    never recomputed). An issued invoice refuses (InvoiceIssued)."""
    unit_price = money(unit_price)
    net, tax, total = line_amounts(unit_price=unit_price, quantity=quantity, tax_rate=tax_rate)
    with transaction.atomic():
        # Checked on the locked row, not on a possibly stale instance.
        Invoice.objects.select_for_update().get(pk=invoice.pk).ensure_draft()
        return InvoiceLine.objects.create(
            invoice=invoice, position=invoice.lines.count(), product=product, service=service,
            description=description, period=period, period_start=period_start,
            period_end=period_end, quantity=quantity, unit_price=unit_price,
            tax_rate=tax_rate, tax_reason=tax_reason, tax_country=tax_country, net_amount=net, tax_amount=tax, total_amount=total,
        )


def invoice_line_description(*, service: Service, period: str, start: datetime | None = None,
                             end: datetime | None = None) -> str:
    """The text of the line billing `service`, in the language of the account billed (its
    billing contact), frozen on the invoice: one period of a new service, or a renewal
    from `start` to `end`."""
    with translation.override(service.billing_contact.language):
        label = f"{service.product.localised_name} – {service.name}"
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
    2. Freeze the totals (sums of the rounded lines), the customer and seller details,
       and the due date (INVOICE_PAYMENT_DAYS after the issue).
    3. Take the next number of the year, in this same transaction.
    4. Pay it from the customer's account credit, if any.
    5. Once committed, render and store the PDF in a worker."""
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
        locked.customer_vat_number = customer.vat_number if customer.is_business else ""
        locked.seller_name = settings.SELLER_NAME
        locked.seller_address = settings.SELLER_ADDRESS
        locked.seller_vat_number = settings.SELLER_VAT_NUMBER
        locked.year = now.year
        locked.sequence = invoice_number_next(year=now.year)
        locked.number = f"{NUMBER_PREFIX}{now.year}-{locked.sequence:06d}"
        locked.issued_at = now
        locked.due_at = now + timedelta(days=settings.INVOICE_PAYMENT_DAYS)
        locked.status = Invoice.Status.ISSUED
        locked.save()
        invoice_list_changed(customer_id=customer.pk)
        # Account credit (an earlier over-payment or credit note) pays it first.
        payment_apply_credit(invoice=locked, now=now)
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
    page (the stylesheets are read from the static files' source, not fetched). While
    something is due it carries how to pay, with the EPC QR code drawn inline."""
    from django.contrib.staticfiles import finders
    from weasyprint import CSS, HTML

    transfer = transfer_instructions(invoice=invoice)
    # segno's own SVG, drawn from settings and the invoice's number: nothing typed by anyone.
    qr_svg = mark_safe(epc_qr_svg(instructions=transfer)) if transfer else ""
    with translation.override(invoice.customer.language):
        html = render_to_string("billing/invoice_print.html", {
            "invoice": invoice, "transfer": transfer, "qr_svg": qr_svg})
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
    """Staff record a payment of the full amount due (billing.services.payments): the
    invoice is paid, its services delivered and the customer emailed, exactly as when a
    bank transfer pays it. Returns False when nothing was due any more."""
    now = now or timezone.now()
    return payment_record(invoice=invoice, amount=None, method=Payment.Method.MANUAL,
                          now=now, staff_user=staff_user).settled
