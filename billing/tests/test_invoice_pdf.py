import io
import logging

import pytest
from django.core.files.storage import default_storage
from pypdf import PdfReader

from billing.models import Invoice
from billing.services.invoices import invoice_store_pdf
from billing.tasks import render_invoice_pdf_task

from .conftest import place_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(customer, hosting):
    return place_order(customer, hosting)[1]


def text_positions(pdf_bytes, page_number=0):
    """[(text, x, y)] of every text run on a page, in PDF points from the bottom left."""
    page = PdfReader(io.BytesIO(pdf_bytes)).pages[page_number]
    runs = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            # The run's origin: the text matrix, then the current transformation matrix.
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            runs.append((text.strip(), x, y))

    page.extract_text(visitor_text=visit)
    return page, runs


def stored_pdf(invoice):
    invoice.refresh_from_db()
    with invoice.pdf.open("rb") as stored:
        return stored.read()


def test_the_nic_handle_is_in_the_top_right_quarter_of_page_one(invoice, customer):
    render_invoice_pdf_task.delay(invoice.pk)
    page, runs = text_positions(stored_pdf(invoice))
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    nic_runs = [(x, y) for text, x, y in runs if text == customer.nic_handle]
    assert len(nic_runs) == 1, runs
    x, y = nic_runs[0]
    assert x > width / 2
    assert y > height * 3 / 4
    number_runs = [(x, y) for text, x, y in runs if text == invoice.number]
    assert number_runs and number_runs[0][0] > width / 2 and number_runs[0][1] > height * 3 / 4


def test_the_pdf_carries_the_lines_and_totals(invoice, customer):
    render_invoice_pdf_task.delay(invoice.pk)
    text = PdfReader(io.BytesIO(stored_pdf(invoice))).pages[0].extract_text()
    for expected in ("Example Hosting SAS", "FR00123456789", "Daniel Martín", "28013 Madrid",
                     "Web hosting – example.com, 1 year", "49.90", "10.48", "€60.38",
                     f"Invoice {invoice.number}"):
        assert expected in text


def test_it_renders_once_and_then_keeps_the_stored_file(invoice):
    first = invoice_store_pdf(invoice_id=invoice.pk)
    content = default_storage.open(first).read()
    second = invoice_store_pdf(invoice_id=invoice.pk)
    assert first == second == f"invoices/2026/{invoice.number}.pdf"
    assert default_storage.open(second).read() == content
    assert default_storage.listdir("invoices/2026")[1] == [f"{invoice.number}.pdf"]


def test_it_is_rendered_in_the_customers_language(invoice, customer):
    customer.language = "es"
    customer.save()
    render_invoice_pdf_task.delay(invoice.pk)
    text = PdfReader(io.BytesIO(stored_pdf(invoice))).pages[0].extract_text()
    assert "10 de marzo de 2026" in text


def test_the_pdf_page_serves_the_stored_file(customer_client, invoice, monkeypatch):
    render_invoice_pdf_task.delay(invoice.pk)
    stored = stored_pdf(invoice)
    monkeypatch.setattr("billing.services.invoices.invoice_render_pdf",
                        lambda **kw: pytest.fail("a stored PDF must not be rendered again"))
    response = customer_client.get(f"/billing/invoices/{invoice.number}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="{invoice.number}.pdf"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == stored


def test_a_missing_pdf_is_rendered_on_the_spot_stored_and_logged(customer_client, invoice, caplog):
    assert not invoice.pdf  # the on-commit task never ran in this test
    with caplog.at_level(logging.WARNING, logger="billing.views"):
        response = customer_client.get(f"/billing/invoices/{invoice.number}/pdf/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    assert f"The PDF of invoice {invoice.number} is not stored" in caplog.text
    assert Invoice.objects.get(pk=invoice.pk).pdf.name == f"invoices/2026/{invoice.number}.pdf"


def test_a_lost_file_is_rendered_again(customer_client, invoice):
    name = invoice_store_pdf(invoice_id=invoice.pk)
    default_storage.delete(name)
    response = customer_client.get(f"/billing/invoices/{invoice.number}/pdf/")
    assert response.status_code == 200
    assert default_storage.exists(name)


def test_another_customers_pdf_is_not_found(client, other_customer, invoice):
    client.force_login(other_customer)
    assert client.get(f"/billing/invoices/{invoice.number}/pdf/").status_code == 404


def test_the_pdf_needs_a_login(client, invoice):
    response = client.get(f"/billing/invoices/{invoice.number}/pdf/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
