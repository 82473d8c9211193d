"""The balance, invoice and pay pages read their data once per version of the customer's
invoices, then from the cache (billing.selectors.account_balance_cached, customer_invoice):
every change to what they show must still be seen on the very next request."""

import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing import references
from billing.models import Invoice, Payment
from billing.selectors import (
    BALANCE_RECENT,
    _left_to_pay,
    _unpaid,
    _unpaid_rows,
    amount_due,
)
from billing.services.credit_notes import credit_note_issue
from billing.services.invoices import invoice_mark_paid
from billing.services.payments import payment_record
from billing.services.reconciliation import statement_import

from .camt_builder import Credit, statement
from .conftest import NOW, bulk_invoices, place_order

pytestmark = pytest.mark.django_db

SEEN = NOW + timedelta(days=1)  # the pages are seen the day after the order, before it is due
LATER = NOW + timedelta(days=2)


@pytest.fixture(autouse=True)
def before_the_due_date():
    with time_machine.travel(SEEN, tick=False):
        yield


@pytest.fixture
def invoice(customer, hosting):
    return place_order(customer, hosting)[1]  # 60.38 (a customer in Spain: 21 % VAT)


def get(client, path):
    response = client.get(path)
    assert response.status_code == 200, path
    return response.content.decode()


def pages(client, invoice):
    """The three pages, each seen once (so cached) and returned as the customer sees them."""
    return (get(client, "/billing/balance/"), get(client, f"/billing/invoices/{invoice.number}/"),
            get(client, f"/billing/invoices/{invoice.number}/pay/"))


def due(balance_page):
    return re.search(r'id="balance-due">([^<]*)<', balance_page)[1]


def credit(balance_page):
    return re.search(r'id="balance-credit">([^<]*)<', balance_page)[1]


def import_statement(staff, credits):
    content = statement(credits)
    statement_import(stream=io.BytesIO(content), size=len(content), file_name="s.xml",
                     staff_user=staff, now=LATER)


def reference(invoice):
    return references.reference_for(invoice.number, invoice.customer_nic_handle)


def test_a_new_invoice_shows_at_once_on_the_balance(customer_client, customer, invoice, domain):
    balance, _detail, _pay = pages(customer_client, invoice)
    assert due(balance) == "€60.38"
    _o, second, _s = place_order(customer, domain, name="second.example")
    balance = get(customer_client, "/billing/balance/")
    assert due(balance) == f"€{Decimal('60.38') + second.total}"
    assert f'href="/billing/invoices/{second.number}/"' in balance


def test_an_invoice_marked_paid_in_admin_shows_paid_on_every_page(customer_client, invoice,
                                                                 agent_client):
    balance, detail, pay = pages(customer_client, invoice)
    assert "Awaiting payment" in detail and 'id="bank-transfer"' in pay
    response = agent_client.post("/admin/billing/invoice/", {
        "action": "mark_paid", "_selected_action": [invoice.pk]})
    assert response.status_code == 302
    balance, detail, pay = pages(customer_client, invoice)
    assert due(balance) == "€0.00" and "Nothing is due" in balance
    assert "Recorded by staff" in balance[balance.index('id="balance-payments"'):]
    assert 'id="invoice-status">Paid on' in detail and 'id="invoice-pay-link"' not in detail
    assert 'id="invoice-paid"' in pay and 'id="bank-transfer"' not in pay


def test_a_bank_statement_paying_part_of_an_invoice_shows_at_once(customer_client, invoice,
                                                                  staff):
    pages(customer_client, invoice)
    import_statement(staff, [Credit("20.00", "BANK-1", structured=reference(invoice))])
    balance, detail, pay = pages(customer_client, invoice)
    assert due(balance) == "€40.38"
    assert 'id="invoice-left-to-pay">Left to pay: €40.38' in detail
    assert re.search(r'id="transfer-amount">€40.38<', pay)


def test_an_over_payment_shows_as_account_credit_at_once(customer_client, invoice, staff):
    pages(customer_client, invoice)
    import_statement(staff, [Credit("70.38", "BANK-1", structured=reference(invoice))])
    balance, detail, pay = pages(customer_client, invoice)
    assert due(balance) == "€0.00" and credit(balance) == "€10.00"
    assert "Over-payment" in balance
    assert 'id="invoice-status">Paid on' in detail and 'id="invoice-paid"' in pay


def test_account_credit_used_by_the_next_invoice_shows_at_once(customer_client, customer, invoice,
                                                               domain, staff):
    payment_record(invoice=invoice, amount=Decimal("80.38"), method=Payment.Method.BANK_TRANSFER,
                   now=LATER, staff_user=staff)
    balance, _detail, _pay = pages(customer_client, invoice)
    assert credit(balance) == "€20.00"
    _o, second, _s = place_order(customer, domain, name="second.example")  # 15.59, from credit
    balance, detail, pay = pages(customer_client, second)
    assert credit(balance) == f"€{Decimal('20.00') - second.total}" and due(balance) == "€0.00"
    assert "Account credit" in detail[detail.index('id="invoice-settlement"'):]
    assert 'id="invoice-paid"' in pay


def test_a_credit_note_shows_at_once_on_every_page(customer_client, invoice, staff):
    balance, detail, _pay = pages(customer_client, invoice)
    assert 'id="invoice-settlement"' not in detail
    note = credit_note_issue(invoice=invoice, staff_user=staff, reason="Mistake", now=LATER)
    balance, detail, pay = pages(customer_client, invoice)
    assert due(balance) == "€0.00" and "€60.38" in balance  # the credit notes' total
    assert f'href="/billing/invoices/{note.number}/"' in detail
    assert "Settled by credit notes and payments" in detail
    assert "Nothing is due on this invoice." in pay


def test_the_overdue_mark_follows_the_day_not_the_cache(customer_client, customer, invoice,
                                                        settings, django_assert_num_queries):
    settings.INVOICE_LIST_CACHE_SECONDS = 400 * 24 * 3600  # still cached once it falls due
    _b, detail, pay = pages(customer_client, invoice)
    assert "Overdue" not in detail and "Overdue since" not in pay
    with time_machine.travel(invoice.due_at + timedelta(days=1), tick=False):
        customer_client.force_login(customer)  # the session would have expired by then
        pay = get(customer_client, f"/billing/invoices/{invoice.number}/pay/")
        with django_assert_num_queries(2):  # from the cache
            detail = get(customer_client, f"/billing/invoices/{invoice.number}/")
    assert 'id="invoice-status">Overdue' in detail and "Overdue since" in pay


@pytest.mark.parametrize("path", ["/billing/balance/", "/billing/invoices/{number}/",
                                  "/billing/invoices/{number}/pay/"])
def test_a_page_seen_again_costs_only_the_session_and_the_user(customer_client, invoice, staff,
                                                               path, django_assert_num_queries):
    payment_record(invoice=invoice, amount=Decimal("1.00"), method=Payment.Method.BANK_TRANSFER,
                   now=LATER, staff_user=staff)
    credit_note_issue(invoice=invoice, staff_user=staff, reason="Mistake", now=LATER)
    path = path.format(number=invoice.number)
    first = get(customer_client, path)
    with django_assert_num_queries(2):
        again = get(customer_client, path)
    assert without_tokens(again) == without_tokens(first)


def without_tokens(page):
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", page)


@pytest.mark.parametrize("path", ["/billing/balance/", "/billing/invoices/FR2026-000002/",
                                  "/billing/invoices/FR2026-000002/pay/"])
def test_a_page_read_anew_costs_the_same_queries_at_3_and_300_invoices(
        customer_client, customer, path, django_assert_num_queries):
    bulk_invoices(customer, 3)
    with CaptureQueriesContext(connection) as few:
        get(customer_client, path)
    assert len(few.captured_queries) <= 12
    bulk_invoices(customer, 300, start=10)  # a new version: read anew
    with django_assert_num_queries(len(few.captured_queries)):
        get(customer_client, path)


def test_another_customers_invoice_is_a_404_even_once_cached(customer_client, invoice, client,
                                                             other_customer):
    pages(customer_client, invoice)
    client.force_login(other_customer)
    for path in (f"/billing/invoices/{invoice.number}/", f"/billing/invoices/{invoice.number}/pay/",
                 f"/billing/invoices/{invoice.number}/pay/qr.svg"):
        assert client.get(path).status_code == 404
        assert client.get(path).status_code == 404  # asked again: still not theirs


def test_an_invoice_not_found_is_found_once_issued(customer_client, customer, hosting):
    number = "FR2026-000001"
    assert customer_client.get(f"/billing/invoices/{number}/").status_code == 404
    assert customer_client.get(f"/billing/invoices/{number}/pay/").status_code == 404
    _o, invoice, _s = place_order(customer, hosting)
    assert invoice.number == number
    assert customer_client.get(f"/billing/invoices/{number}/").status_code == 200
    assert customer_client.get(f"/billing/invoices/{number}/pay/").status_code == 200


def test_an_odd_invoice_number_is_a_plain_404(customer_client, invoice):
    for number in ("FR 2026", "é" * 30, "x" * 300, "FR2026-000001%0A"):
        assert customer_client.get(f"/billing/invoices/{number}/").status_code == 404


def test_the_pages_still_answer_when_the_cache_is_off(customer_client, invoice, settings,
                                                      staff, django_assert_max_num_queries):
    settings.INVOICE_LIST_CACHE_SECONDS = 0
    pages(customer_client, invoice)
    invoice_mark_paid(invoice=invoice, staff_user=staff, now=LATER)
    balance, detail, _pay = pages(customer_client, invoice)
    assert due(balance) == "€0.00" and 'id="invoice-status">Paid on' in detail
    with django_assert_max_num_queries(6):
        get(customer_client, f"/billing/invoices/{invoice.number}/")


def test_a_cache_outage_is_never_an_error(customer_client, invoice, settings):
    # Nothing listens on port 1: every cache call fails at once.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0",
                                   "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}
    balance, detail, pay = pages(customer_client, invoice)
    assert due(balance) == "€60.38" and invoice.number in detail and 'id="bank-transfer"' in pay


def test_the_dashboard_and_the_balance_agree(customer_client, customer, invoice, staff):
    payment_record(invoice=invoice, amount=Decimal("0.10"), method=Payment.Method.BANK_TRANSFER,
                   now=LATER, staff_user=staff)
    payment_record(invoice=invoice, amount=Decimal("0.20"), method=Payment.Method.BANK_TRANSFER,
                   now=LATER, staff_user=staff)
    bulk_invoices(customer, 3, start=100)
    balance = get(customer_client, "/billing/balance/")
    dashboard = get(customer_client, "/account/")
    assert due(balance) == "€96.08"  # 60.38 − 0.30 + 3 × 12.00
    assert re.search(r'id="dashboard-amount-due">€96.08<', dashboard)
    assert Invoice.objects.filter(customer=customer, paid_at=None).count() == 4


def test_postgresql_works_out_the_same_amounts_as_the_exact_python_sums(
        postgres, customer, hosting, domain, staff):
    """PostgreSQL computes what is left to pay (billing.selectors._unpaid); SQLite's path adds
    it up in Python. Both are run here on the same invoices."""
    invoices = [place_order(customer, product, name=f"s{n}.example")[1]
                for n, product in enumerate((hosting, domain, hosting, hosting, domain, hosting))]
    cents, paid, credited, partly, over, _untouched = invoices
    for amount in ("0.10", "0.20", "0.05"):
        payment_record(invoice=cents, amount=Decimal(amount), now=LATER, staff_user=staff,
                       method=Payment.Method.BANK_TRANSFER)
    invoice_mark_paid(invoice=paid, staff_user=staff, now=LATER)
    credit_note_issue(invoice=credited, staff_user=staff, reason="Mistake", now=LATER)
    payment_record(invoice=partly, amount=Decimal("50.00"), now=LATER, staff_user=staff,
                   method=Payment.Method.BANK_TRANSFER)
    credit_note_issue(invoice=partly, staff_user=staff, reason="Beyond", now=LATER)
    payment_record(invoice=over, amount=Decimal("100.00"), now=LATER, staff_user=staff,
                   method=Payment.Method.BANK_TRANSFER)
    bulk_invoices(customer, 30, start=100)
    exact = _left_to_pay(customer)
    assert len(exact) == 32 and exact[cents.pk] == cents.total - Decimal("0.35")
    for rows in (0, 1, 5, BALANCE_RECENT):
        computed = _unpaid(customer, rows=rows)
        assert computed.count == len(exact) and computed.due == sum(exact.values())
        assert [(row.pk, row.left_to_pay) for row in computed.rows] == [
            (row.pk, row.left_to_pay) for row in _unpaid_rows(exact, rows)]
    assert amount_due(user=customer) == sum(exact.values())


def test_the_cached_balance_follows_the_customers_language(customer_client, customer, invoice,
                                                           staff):
    english = get(customer_client, "/billing/balance/")
    assert due(english) == "€60.38" and "Awaiting payment" not in english
    customer.language = "es"
    customer.save(update_fields=["language"])
    spanish = get(customer_client, "/billing/balance/")
    assert due(spanish) == "60,38\xa0€" and "Saldo a favor" in spanish
    invoice_mark_paid(invoice=invoice, staff_user=staff, now=LATER)
    assert "No tiene ningún importe pendiente. ¡Gracias!" in get(customer_client,
                                                                 "/billing/balance/")


def test_the_balance_is_markup_not_escaped_text(customer_client, invoice):
    page = get(customer_client, "/billing/balance/")
    page = get(customer_client, "/billing/balance/")  # from the cache
    assert f'<a class="font-monospace" href="/billing/invoices/{invoice.number}/">' in page
    assert "&lt;" not in page


def test_the_cached_invoice_follows_the_sellers_account_and_the_language(
        customer_client, customer, invoice, settings):
    settings.SELLER_IBAN, settings.SELLER_BIC = "DE89370400440532013000", "COBADEFFXXX"
    assert "DE89 3704 0044 0532 0130 00" in get(customer_client,
                                                 f"/billing/invoices/{invoice.number}/")
    settings.SELLER_IBAN, settings.SELLER_BIC = "FR7630006000011234567890189", "AGRIFRPPXXX"
    page = get(customer_client, f"/billing/invoices/{invoice.number}/")
    assert "FR76 3000 6000 0112 3456 7890 189" in page and "DE89" not in page
    customer.language = "fr"
    customer.save(update_fields=["language"])
    page = get(customer_client, f"/billing/invoices/{invoice.number}/")
    assert "60,38\xa0€" in page and "Total incl. tax" not in page
