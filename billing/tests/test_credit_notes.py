"""Credit notes: issued by staff against an issued invoice, whole or by line."""

import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core import mail
from pypdf import PdfReader

from billing.models import CreditMovement, CreditNote, CreditNoteSequence, InvoiceIssued
from billing.services.credit_notes import credit_note_issue
from billing.services.invoices import invoice_mark_paid
from billing.tasks import render_credit_note_pdf_task
from portal.errors import DomainError

from .conftest import place_order
from .test_invoice_pdf import text_positions

pytestmark = pytest.mark.django_db

LATER = datetime(2026, 3, 20, 10, 0, tzinfo=UTC)


@pytest.fixture
def invoice(customer, hosting):
    return place_order(customer, hosting)[1]


def two_line_invoice(customer, hosting, domain):
    """An invoice of two lines (an order makes one): a renewal-style invoice."""
    from billing.services.invoices import (
        invoice_create,
        invoice_issue,
        invoice_line_add,
    )

    draft = invoice_create(customer=customer, kind="renewal", now=LATER)
    invoice_line_add(invoice=draft, description="Hosting", unit_price=Decimal("10.00"),
                     tax_rate=Decimal(20))
    invoice_line_add(invoice=draft, description="Domain", unit_price=Decimal("5.00"),
                     tax_rate=Decimal(10))
    return invoice_issue(invoice=draft, now=LATER)


def test_a_whole_credit_note_cancels_what_an_unpaid_invoice_has_due(customer, invoice, staff,
                                                                   django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        note = credit_note_issue(invoice=invoice, staff_user=staff, reason="Ordered by mistake",
                                 now=LATER)
    assert note.number == "AV2026-000001"
    assert (note.total, note.customer_nic_handle) == (invoice.total, customer.nic_handle)
    invoice.refresh_from_db()
    assert invoice.amount_due == Decimal("0.00") and not invoice.is_paid
    assert not CreditMovement.objects.exists()
    message = mail.outbox[-1]
    assert message.to == [customer.email]
    assert note.number in message.subject and customer.nic_handle in message.subject
    assert "Ordered by mistake" in message.body and f"/billing/invoices/{note.number}/" in message.body


def test_a_credit_note_on_a_paid_invoice_becomes_account_credit(customer, invoice, staff):
    invoice_mark_paid(invoice=invoice, staff_user=staff)
    credit_note_issue(invoice=invoice, staff_user=staff, reason="Goodwill", now=LATER)
    movement = CreditMovement.objects.get()
    assert (movement.kind, movement.amount) == (CreditMovement.Kind.CREDIT_NOTE, invoice.total)


def test_a_credit_note_on_a_partly_paid_invoice_cancels_the_rest_and_credits_the_excess(
        customer, hosting, domain, staff):
    from billing.models import Payment
    from billing.services.payments import payment_record

    invoice = two_line_invoice(customer, hosting, domain)  # 12.00 + 5.50 = 17.50
    payment_record(invoice=invoice, amount=Decimal("10.00"), method=Payment.Method.MANUAL,
                   now=LATER, staff_user=staff)
    hosting_line = invoice.lines.get(description="Hosting")
    credit_note_issue(invoice=invoice, staff_user=staff, reason="Hosting never delivered",
                      now=LATER, line_ids=[hosting_line.pk])
    invoice.refresh_from_db()
    # 7.50 was due; 12.00 credited: nothing due, 4.50 to the account.
    assert invoice.amount_due == Decimal("0.00")
    assert CreditMovement.objects.get().amount == Decimal("4.50")


def test_lines_are_credited_once_at_most(customer, hosting, domain, staff):
    invoice = two_line_invoice(customer, hosting, domain)
    first = invoice.lines.get(description="Hosting")
    note = credit_note_issue(invoice=invoice, staff_user=staff, reason="One line", now=LATER,
                             line_ids=[first.pk])
    assert (note.total, note.lines.get().description) == (Decimal("12.00"), "Hosting")
    invoice.refresh_from_db()
    assert invoice.amount_due == Decimal("5.50")
    with pytest.raises(DomainError) as refused:
        credit_note_issue(invoice=invoice, staff_user=staff, reason="Whole", now=LATER)
    assert "Cannot credit more than was invoiced: Hosting already credited" in refused.value.message
    assert CreditNote.objects.count() == 1
    assert CreditNoteSequence.objects.get(year=2026).last_number == 1  # the number given back
    credit_note_issue(invoice=invoice, staff_user=staff, reason="The rest", now=LATER,
                      line_ids=[invoice.lines.get(description="Domain").pk])
    invoice.refresh_from_db()
    assert invoice.amount_due == Decimal("0.00") and invoice.amount_credited == invoice.total


def test_numbers_follow_their_own_series_without_gaps(customer, hosting, staff):
    numbers = [credit_note_issue(invoice=place_order(customer, hosting, name=f"n{n}.example")[1],
                                 staff_user=staff, reason="r", now=LATER).number
               for n in range(3)]
    assert numbers == ["AV2026-000001", "AV2026-000002", "AV2026-000003"]


def test_a_reason_is_required(invoice, staff):
    with pytest.raises(DomainError) as refused:
        credit_note_issue(invoice=invoice, staff_user=staff, reason="  ", now=LATER)
    assert refused.value.field == "reason"
    assert not CreditNote.objects.exists()


def test_an_issued_credit_note_cannot_change(invoice, staff, superuser_client):
    note = credit_note_issue(invoice=invoice, staff_user=staff, reason="Mistake", now=LATER)
    with pytest.raises(InvoiceIssued):
        note.ensure_draft()
    # Admin shows it read-only: a change or delete is refused, whoever asks.
    response = superuser_client.post(f"/admin/billing/creditnote/{note.pk}/change/",
                                     {"reason": "Changed", "total": "0.00"})
    assert response.status_code == 403
    assert superuser_client.post(f"/admin/billing/creditnote/{note.pk}/delete/",
                                 {"post": "yes"}).status_code == 403
    note.refresh_from_db()
    assert (note.reason, note.total) == ("Mistake", invoice.total)


def test_the_pdf_has_the_nic_handle_top_right_and_the_lines(invoice, customer, staff):
    note = credit_note_issue(invoice=invoice, staff_user=staff, reason="Mistake", now=LATER)
    render_credit_note_pdf_task.delay(note.pk)
    note.refresh_from_db()
    with note.pdf.open("rb") as stored:
        content = stored.read()
    page, runs = text_positions(content)
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    (x, y), = [(x, y) for text, x, y in runs if text == customer.nic_handle]
    assert x > width / 2 and y > height * 3 / 4
    text = PdfReader(io.BytesIO(content)).pages[0].extract_text()
    assert note.number in text and invoice.number in text and "Mistake" in text


def test_the_customer_sees_it_with_the_invoices_and_another_customer_gets_404(
        client, customer_client, other_customer, invoice, staff):
    note = credit_note_issue(invoice=invoice, staff_user=staff, reason="Mistake", now=LATER)
    listing = customer_client.get("/billing/invoices/").content.decode()
    assert f'href="/billing/invoices/{note.number}/"' in listing
    page = customer_client.get(f"/billing/invoices/{note.number}/")
    assert page.status_code == 200
    assert "Mistake" in page.content.decode() and invoice.number in page.content.decode()
    pdf = customer_client.get(f"/billing/invoices/{note.number}/pdf/")
    assert pdf["Content-Type"] == "application/pdf"
    client.force_login(other_customer)
    assert client.get(f"/billing/invoices/{note.number}/").status_code == 404
    assert client.get(f"/billing/invoices/{note.number}/pdf/").status_code == 404
    assert note.number not in client.get("/billing/invoices/").content.decode()
