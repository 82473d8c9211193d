"""How to pay an invoice: /billing/invoices/<number>/pay/, its EPC QR code, and the same
details on the invoice page, its PDF and the order and renewal emails."""

import io
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
import time_machine
from pypdf import PdfReader
from segno.helpers import _make_epc_qr_data, make_epc_qr

from billing.models import Invoice
from billing.references import formatted, reference_for
from billing.services.invoices import invoice_mark_paid, invoice_render_pdf
from billing.services.renewals import renewals_issue_due
from notifications.models import OutboundEmail

from .conftest import NOW, place_order

pytestmark = pytest.mark.django_db

IBAN = "DE89370400440532013000"
BIC = "COBADEFFXXX"


@pytest.fixture(autouse=True)
def seller_account(settings):
    settings.SELLER_IBAN, settings.SELLER_BIC = IBAN, BIC


@pytest.fixture
def invoice(customer, hosting):
    with time_machine.travel(NOW, tick=False):
        return place_order(customer, hosting)[1]


def reference_of(invoice):
    return formatted(reference_for(invoice.number, invoice.customer_nic_handle))


def test_the_pay_page_shows_the_account_the_exact_amount_and_the_reference(
        customer_client, invoice):
    page = customer_client.get(f"/billing/invoices/{invoice.number}/pay/").content.decode()
    assert "DE89 3704 0044 0532 0130 00" in page and BIC in page
    assert "€60.38" in page
    assert reference_of(invoice) in page and reference_of(invoice).startswith("RF")
    assert f'src="/billing/invoices/{invoice.number}/pay/qr.svg"' in page
    assert "Example Hosting SAS" in page


def test_the_qr_code_carries_the_epc_payload_with_our_iban_amount_and_reference(
        customer_client, invoice):
    with mock.patch("billing.services.bank_transfer.make_epc_qr", wraps=make_epc_qr) as drawn:
        response = customer_client.get(f"/billing/invoices/{invoice.number}/pay/qr.svg")
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    assert response.content.startswith(b"<svg") and b"<script" not in response.content
    payload = _make_epc_qr_data(**drawn.call_args.kwargs).decode("iso-8859-1").split("\n")
    # EPC069-12: service tag, version, charset, SCT, BIC, name, IBAN, amount, purpose, reference
    assert payload[0] == "BCD" and payload[3] == "SCT"
    assert payload[4:8] == [BIC, "Example Hosting SAS", IBAN, "EUR60.38"]
    assert payload[9] == reference_for(invoice.number, invoice.customer_nic_handle)


def test_the_amount_in_the_code_is_what_is_due(customer_client, invoice):
    with mock.patch("billing.services.bank_transfer.make_epc_qr", wraps=make_epc_qr) as drawn:
        customer_client.get(f"/billing/invoices/{invoice.number}/pay/qr.svg")
    assert drawn.call_args.kwargs["amount"] == invoice.amount_due == Decimal("60.38")


def test_another_customer_cannot_reach_the_pay_page_or_its_code(client, other_customer, invoice):
    client.force_login(other_customer)
    assert client.get(f"/billing/invoices/{invoice.number}/pay/").status_code == 404
    assert client.get(f"/billing/invoices/{invoice.number}/pay/qr.svg").status_code == 404


def test_the_pay_page_needs_a_login(client, invoice):
    response = client.get(f"/billing/invoices/{invoice.number}/pay/")
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert client.get(f"/billing/invoices/{invoice.number}/pay/qr.svg").status_code == 302


def test_a_paid_invoices_pay_page_says_it_is_paid(customer_client, invoice, staff):
    invoice_mark_paid(invoice=invoice, staff_user=staff, now=NOW + timedelta(days=1))
    page = customer_client.get(f"/billing/invoices/{invoice.number}/pay/").content.decode()
    assert "This invoice is paid" in page
    assert IBAN not in page and "qr.svg" not in page
    assert customer_client.get(f"/billing/invoices/{invoice.number}/pay/qr.svg").status_code == 404


def test_a_draft_has_no_pay_page(customer_client, customer):
    Invoice.objects.create(customer=customer, kind=Invoice.Kind.ORDER, created_at=NOW)
    assert customer_client.get("/billing/invoices/None/pay/").status_code == 404


def test_the_invoice_page_has_a_pay_button_and_the_transfer_details(customer_client, invoice):
    page = customer_client.get(f"/billing/invoices/{invoice.number}/").content.decode()
    assert f'href="/billing/invoices/{invoice.number}/pay/"' in page
    assert "DE89 3704 0044 0532 0130 00" in page and reference_of(invoice) in page


def test_a_paid_invoice_page_has_no_pay_button(customer_client, invoice, staff):
    invoice_mark_paid(invoice=invoice, staff_user=staff, now=NOW + timedelta(days=1))
    page = customer_client.get(f"/billing/invoices/{invoice.number}/").content.decode()
    assert "/pay/" not in page and IBAN not in page


def test_the_list_has_a_pay_button_on_unpaid_invoices_only(customer_client, customer, hosting,
                                                           staff, invoice):
    with time_machine.travel(NOW, tick=False):
        paid = place_order(customer, hosting, name="paid.example")[1]
    invoice_mark_paid(invoice=paid, staff_user=staff, now=NOW)
    page = customer_client.get("/billing/invoices/").content.decode()
    assert f'href="/billing/invoices/{invoice.number}/pay/"' in page
    assert f'href="/billing/invoices/{paid.number}/pay/"' not in page


def test_the_pdf_carries_the_transfer_details_and_the_code(invoice):
    pdf = invoice_render_pdf(invoice=Invoice.objects.get(pk=invoice.pk))
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    text = page.extract_text()
    assert "DE89 3704 0044 0532 0130 00" in text and BIC in text
    assert reference_of(invoice) in text and "€60.38" in text
    # The QR code is drawn as vector paths: hundreds of line segments on the page.
    assert page.get_contents().get_data().count(b" l\n") > 100


def test_the_order_confirmation_email_says_how_to_pay(customer, invoice):
    email = OutboundEmail.objects.get(user=customer, kind="order_confirmed")
    for body in (email.body_text, email.body_html):
        assert "DE89 3704 0044 0532 0130 00" in body and BIC in body
        assert "€60.38" in body and reference_of(invoice) in body
        assert f"/billing/invoices/{invoice.number}/pay/" in body


def test_the_renewal_email_says_how_to_pay(customer, hosting, staff, invoice):
    invoice_mark_paid(invoice=invoice, staff_user=staff, now=NOW)
    service = invoice.lines.get().service
    service.refresh_from_db()
    [renewal] = renewals_issue_due(now=service.expires_at - timedelta(days=15))
    email = OutboundEmail.objects.get(user=customer, kind="renewal_invoice")
    for body in (email.body_text, email.body_html):
        assert "DE89 3704 0044 0532 0130 00" in body and BIC in body
        assert f"€{renewal.total}" in body and reference_of(renewal) in body
        assert f"/billing/invoices/{renewal.number}/pay/" in body
