from datetime import timedelta

import pytest
import time_machine
from django.contrib.staticfiles import finders

from billing.models import Invoice
from billing.services.invoices import invoice_mark_paid

from .conftest import NOW, place_order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def before_the_due_dates():
    """Orders are placed at NOW; the pages are seen the next day, before they fall due."""
    with time_machine.travel(NOW + timedelta(days=1)):
        yield


@pytest.fixture
def invoice(customer, hosting):
    return place_order(customer, hosting)[1]


def top_right_block(page):
    return page[page.index('id="invoice-customer"'):page.index('class="inv-title"')]


def test_it_shows_the_invoice_with_the_nic_handle_in_the_top_right_block(customer_client,
                                                                          customer, invoice):
    response = customer_client.get(f"/billing/invoices/{invoice.number}/")
    assert response.status_code == 200
    page = response.content.decode()
    seller = page[page.index('class="inv-seller"'):page.index('id="invoice-customer"')]
    assert "Example Hosting SAS" in seller and "FR00123456789" in seller
    block = top_right_block(page)
    for text in (customer.nic_handle, invoice.number, "March 10, 2026", "Daniel Martín",
                 "1 Calle Mayor", "28013 Madrid", "Spain"):
        assert text in block
    assert '<link rel="stylesheet" href="/static/css/invoice.css">' in page
    with open(finders.find("css/invoice.css")) as stylesheet:  # shared with the PDF
        assert ".invoice-doc .inv-customer { text-align: right; }" in stylesheet.read()
    assert "Web hosting – example.com, 1 year" in page
    assert "Tax 21 % on €49.90" in page and "€10.48" in page and "€60.38" in page
    assert "Awaiting payment" in page
    assert f'href="/billing/invoices/{invoice.number}/pdf/"' in page


def test_it_uses_the_same_document_template_as_the_pdf(customer_client, invoice):
    response = customer_client.get(f"/billing/invoices/{invoice.number}/")
    assert "billing/_invoice_document.html" in [t.name for t in response.templates]


def test_a_paid_invoice_says_so(customer_client, invoice, staff):
    invoice_mark_paid(invoice=invoice, staff_user=staff)
    page = customer_client.get(f"/billing/invoices/{invoice.number}/").content.decode()
    assert "Paid on" in page and "Awaiting payment" not in page


def test_another_customers_invoice_is_not_found(client, other_customer, invoice):
    client.force_login(other_customer)
    response = client.get(f"/billing/invoices/{invoice.number}/")
    assert response.status_code == 404
    assert invoice.number not in response.content.decode()


def test_an_unknown_number_is_not_found(customer_client, invoice):
    assert customer_client.get("/billing/invoices/FR2026-999999/").status_code == 404


def test_it_needs_a_login(client, invoice):
    response = client.get(f"/billing/invoices/{invoice.number}/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_it_costs_a_fixed_number_of_queries(customer_client, invoice, django_assert_num_queries):
    with django_assert_num_queries(6):  # session, user, invoice, lines, payments, credit notes
        customer_client.get(f"/billing/invoices/{invoice.number}/")


def test_the_customer_sees_the_frozen_details_even_after_moving(customer_client, customer, invoice):
    customer.address, customer.city, customer.zip = "5 New Road", "Bilbao", "48001"
    customer.save()
    block = top_right_block(customer_client.get(f"/billing/invoices/{invoice.number}/").content.decode())
    assert "1 Calle Mayor" in block and "Bilbao" not in block
    assert Invoice.objects.get(pk=invoice.pk).customer_address.startswith("1 Calle Mayor")


@pytest.mark.parametrize("number", ["%00", "FR2026-000001%00", "%00FR2026-000001"])
@pytest.mark.parametrize("suffix", ["", "pdf/"])
def test_an_invoice_number_with_a_nul_is_a_404(customer_client, number, suffix):
    """A NUL reached the query, which PostgreSQL refuses (a 500)."""
    customer_client.raise_request_exception = False
    assert customer_client.get(f"/billing/invoices/{number}/{suffix}").status_code == 404
