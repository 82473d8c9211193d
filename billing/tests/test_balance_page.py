"""/billing/balance/: what the customer has due, what they paid, their account credit."""

import re
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import Payment
from billing.services.credit_notes import credit_note_issue
from billing.services.payments import payment_record

from .conftest import bulk_invoices, place_order

pytestmark = pytest.mark.django_db

PAID = datetime(2026, 3, 12, 15, 0, tzinfo=timezone.utc)


def test_it_shows_due_paid_and_credit(customer_client, customer, hosting, domain, staff):
    _o, paid, _s = place_order(customer, hosting)  # 59.88
    _o, unpaid, _s = place_order(customer, domain, name="second.example")  # 15.59
    payment_record(invoice=paid, amount=paid.total + Decimal("20.00"),
                   method=Payment.Method.BANK_TRANSFER, now=PAID, staff_user=staff)
    page = customer_client.get("/billing/balance/").content.decode()
    assert f'id="balance-due">€{unpaid.total}' in page
    assert f'id="balance-received">€{paid.total + Decimal("20.00")}' in page
    assert 'id="balance-credit">€20.00' in page
    assert f'href="/billing/invoices/{unpaid.number}/"' in page
    assert "Bank transfer" in page and "Over-payment" in page


def test_a_credit_note_shows_in_the_balance(customer_client, customer, hosting, staff):
    _o, invoice, _s = place_order(customer, hosting)
    note = credit_note_issue(invoice=invoice, staff_user=staff, reason="Mistake", now=PAID)
    page = customer_client.get("/billing/balance/").content.decode()
    assert 'id="balance-due">€0.00' in page and "Nothing is due" in page
    assert f"{note.total}" in page


def test_many_unpaid_invoices_show_the_oldest_twenty_with_the_whole_amount_due(
        customer_client, customer, django_assert_max_num_queries):
    bulk_invoices(customer, 45)  # 12.00 each, all unpaid
    with django_assert_max_num_queries(15):
        page = customer_client.get("/billing/balance/").content.decode()
    assert 'id="balance-due">€540.00' in page
    assert "FR2026-000020" in page and "FR2026-000021" not in page
    assert "The oldest 20 of 45 invoices awaiting payment are shown." in page
    assert 'id="balance-unpaid-more"' in page


def test_the_queries_do_not_grow_with_the_invoices(customer_client, customer,
                                                   django_assert_num_queries):
    bulk_invoices(customer, 3)  # a new version of the customer's invoices: read anew
    with CaptureQueriesContext(connection) as few:
        customer_client.get("/billing/balance/")
    bulk_invoices(customer, 300, start=10)
    with django_assert_num_queries(len(few.captured_queries)):
        page = customer_client.get("/billing/balance/").content.decode()
    assert 'id="balance-due">€3,636.00' in page


def test_a_balance_seen_again_costs_only_the_session_and_the_user(customer_client, customer,
                                                                  django_assert_num_queries):
    bulk_invoices(customer, 30)
    first = customer_client.get("/billing/balance/").content.decode()
    with django_assert_num_queries(2):
        again = customer_client.get("/billing/balance/").content.decode()
    assert content(again) == content(first) and 'id="balance-due">€360.00' in again


def content(page):
    """The page without its CSRF tokens (fresh on each request)."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", page)


def test_the_invoice_list_links_to_the_balance(customer_client):
    page = customer_client.get("/billing/invoices/").content.decode()
    assert 'href="/billing/balance/"' in page


def test_another_customer_sees_only_their_own_balance(client, customer, other_customer, hosting,
                                                      staff):
    _o, invoice, _s = place_order(customer, hosting)
    payment_record(invoice=invoice, amount=invoice.total + Decimal("3.00"),
                   method=Payment.Method.BANK_TRANSFER, now=PAID, staff_user=staff)
    client.force_login(other_customer)
    page = client.get("/billing/balance/").content.decode()
    assert invoice.number not in page
    assert 'id="balance-credit">€0.00' in page and 'id="balance-received">€0.00' in page


def test_it_needs_a_login(client):
    response = client.get("/billing/balance/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_it_costs_a_fixed_number_of_queries(customer_client, customer, hosting, staff,
                                            django_assert_max_num_queries):
    for n in range(6):
        _o, invoice, _s = place_order(customer, hosting, name=f"s{n}.example")
        payment_record(invoice=invoice, amount=Decimal("1.00"),
                       method=Payment.Method.BANK_TRANSFER, now=PAID, staff_user=staff)
    with django_assert_max_num_queries(12):
        assert customer_client.get("/billing/balance/").status_code == 200


def test_the_invoice_page_lists_its_payments_and_credit_notes(customer_client, customer, hosting,
                                                              staff):
    _o, invoice, _s = place_order(customer, hosting)
    payment_record(invoice=invoice, amount=Decimal("20.00"), method=Payment.Method.BANK_TRANSFER,
                   now=PAID, staff_user=staff)
    page = customer_client.get(f"/billing/invoices/{invoice.number}/").content.decode()
    block = page[page.index('id="invoice-settlement"'):]
    assert "Bank transfer" in block and "€20.00" in block
    assert f'id="invoice-left-to-pay">Left to pay: €{invoice.total - 20}' in block
    assert 'id="invoice-pay-link"' in page and "Settled" not in page
    note = credit_note_issue(invoice=invoice, staff_user=staff, reason="Mistake", now=PAID)
    page = customer_client.get(f"/billing/invoices/{invoice.number}/").content.decode()
    block = page[page.index('id="invoice-settlement"'):]
    assert f'href="/billing/invoices/{note.number}/"' in block
    assert "Left to pay: €0.00" in block
    assert "Settled by credit notes and payments" in page and "Overdue" not in page
    assert 'id="invoice-pay-link"' not in page


def test_an_invoice_with_nothing_received_has_no_settlement_block(customer_client, customer,
                                                                 hosting):
    _o, invoice, _s = place_order(customer, hosting)
    page = customer_client.get(f"/billing/invoices/{invoice.number}/").content.decode()
    assert 'id="invoice-settlement"' not in page and 'id="invoice-pay-link"' in page
