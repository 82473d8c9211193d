"""Credit notes: staff correct an issued invoice, whole or by line, with a reason. The
credit note takes its number from its own gapless series, reduces what the invoice has
due, and whatever goes beyond that (the invoice was already paid) becomes account
credit. Its PDF is rendered after commit, like an invoice's, and the customer emailed."""

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from accounts.models import SecurityEvent, User
from accounts.security import security_log
from billing.models import (
    CREDIT_NOTE_PREFIX,
    CreditMovement,
    CreditNote,
    CreditNoteLine,
    CreditNoteSequence,
    Invoice,
    InvoiceLine,
)
from billing.services.invoice_list import invoice_list_changed
from billing.services.invoices import INVOICE_PDF_STYLESHEETS, _no_fetch
from billing.services.payments import invoice_due_locked
from notifications.services import email_queue
from portal.errors import DomainError
from portal.queueing import task_send_on_commit

RENDER_PDF_TASK = "billing.tasks.render_credit_note_pdf_task"


def credit_note_number_next(*, year: int) -> int:
    """The next credit note number of `year`, under a row lock held until the caller's
    transaction ends (as billing.services.invoices.invoice_number_next)."""
    CreditNoteSequence.objects.bulk_create([CreditNoteSequence(year=year)], ignore_conflicts=True)
    sequence = CreditNoteSequence.objects.select_for_update().get(year=year)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return sequence.last_number


def credit_note_issue(*, invoice: Invoice, staff_user: User, reason: str, now: datetime,
                      line_ids: Iterable[int] | None = None) -> CreditNote:
    """1. Lock the invoice; read what it has due.
    2. Take the lines to credit (all of them when `line_ids` is None); refuse a line
       already credited: nothing is credited beyond what was invoiced.
    3. Take the next number and create the credit note with its lines, the customer and
       seller details copied from the invoice.
    4. What goes beyond the amount due becomes account credit.
    5. Log it, email the customer, and render the PDF after commit."""
    reason = reason.strip()
    if not reason:
        raise DomainError(gettext("Give the reason for the credit note."), field="reason")
    with transaction.atomic():
        invoice, due = invoice_due_locked(invoice.pk)
        lines = InvoiceLine.objects.filter(invoice=invoice).order_by("position", "pk")
        if line_ids is not None:
            lines = lines.filter(pk__in=list(line_ids))
        lines = list(lines)
        if not lines:
            raise DomainError(gettext("Choose at least one line of the invoice to credit."),
                              field="lines")
        credited = [line for line in lines if CreditNoteLine.objects.filter(
            invoice_line=line).exists()]
        if credited:
            raise DomainError(
                gettext("Cannot credit more than was invoiced: %(lines)s already credited.")
                % {"lines": ", ".join(line.description for line in credited)}, field="lines")
        year = now.year
        sequence = credit_note_number_next(year=year)
        subtotal = sum((line.net_amount for line in lines), Decimal("0.00"))
        tax_total = sum((line.tax_amount for line in lines), Decimal("0.00"))
        note = CreditNote.objects.create(
            invoice=invoice, customer_id=invoice.customer_id, year=year, sequence=sequence,
            number=f"{CREDIT_NOTE_PREFIX}{year}-{sequence:06d}", issued_at=now,
            issued_by=staff_user, reason=reason, currency=invoice.currency,
            customer_nic_handle=invoice.customer_nic_handle, customer_name=invoice.customer_name,
            customer_organisation=invoice.customer_organisation,
            customer_address=invoice.customer_address, seller_name=invoice.seller_name,
            seller_address=invoice.seller_address, seller_vat_number=invoice.seller_vat_number,
            subtotal=subtotal, tax_total=tax_total, total=subtotal + tax_total)
        CreditNoteLine.objects.bulk_create([
            CreditNoteLine(credit_note=note, invoice_line=line, position=position,
                           description=line.description, quantity=line.quantity,
                           unit_price=line.unit_price, tax_rate=line.tax_rate,
                           net_amount=line.net_amount, tax_amount=line.tax_amount,
                           total_amount=line.total_amount)
            for position, line in enumerate(lines)])
        beyond_due = note.total - min(note.total, due)
        if beyond_due:
            CreditMovement.objects.create(customer_id=invoice.customer_id,
                                          kind=CreditMovement.Kind.CREDIT_NOTE,
                                          amount=beyond_due, created_at=now, invoice=invoice,
                                          credit_note=note)
        invoice_list_changed(customer_id=invoice.customer_id)
        security_log(user=invoice.customer, action=SecurityEvent.Action.STAFF_ACTION,
                     actor=staff_user, billing="credit_note_issued", invoice=invoice.number,
                     credit_note=note.number)
        email_queue(template="credit_note_issued", to=invoice.customer.email,
                    user=invoice.customer,
                    context={"credit_note": note, "invoice_number": invoice.number,
                             "credit_note_path": reverse("billing:invoice", args=[note.number]),
                             "balance_path": reverse("billing:balance")})
        task_send_on_commit(RENDER_PDF_TASK, note.pk)
    return note


def credit_note_render_pdf(*, credit_note: CreditNote) -> bytes:
    """The PDF of a credit note, from the same template and stylesheets as its page."""
    from django.contrib.staticfiles import finders
    from weasyprint import CSS, HTML

    with translation.override(credit_note.customer.language):
        html = render_to_string("billing/credit_note_print.html", {"note": credit_note})
    stylesheets = [CSS(filename=finders.find(name), url_fetcher=_no_fetch)
                   for name in INVOICE_PDF_STYLESHEETS]
    return HTML(string=html, url_fetcher=_no_fetch).write_pdf(stylesheets=stylesheets)


def credit_note_store_pdf(*, credit_note_id: int) -> str:
    """Render the PDF of a credit note once and store it (a no-op when stored); two
    renders at once keep the first file recorded."""
    note = (CreditNote.objects.select_related("customer", "invoice").prefetch_related("lines")
            .get(pk=credit_note_id))
    stored = note.pdf.name
    if stored and note.pdf.storage.exists(stored):
        return stored
    storage = note.pdf.storage
    name = storage.save(note.pdf_name(), ContentFile(credit_note_render_pdf(credit_note=note)))
    if CreditNote.objects.filter(pk=note.pk, pdf=stored).update(pdf=name):
        return name
    storage.delete(name)
    return CreditNote.objects.values_list("pdf", flat=True).get(pk=note.pk)
