"""Due dates: INVOICE_PAYMENT_DAYS after the issue, stored on the invoice; the list shows
what is due and puts overdue invoices first."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
import time_machine

from billing.services.contacts import has_overdue_invoice
from billing.services.invoices import invoice_mark_paid

from .conftest import NOW, place_order

pytestmark = pytest.mark.django_db


def test_a_new_orders_invoice_is_due_14_days_after_its_issue(customer, hosting):
    invoice = place_order(customer, hosting, now=NOW)[1]
    assert invoice.due_at == NOW + timedelta(days=14)


def test_the_payment_days_come_from_the_settings(customer, hosting, settings):
    settings.INVOICE_PAYMENT_DAYS = 30
    invoice = place_order(customer, hosting, now=NOW)[1]
    assert invoice.due_at == NOW + timedelta(days=30)


def test_a_new_invoice_is_not_overdue_at_once(customer, hosting):
    invoice = place_order(customer, hosting, now=NOW)[1]
    assert not invoice.is_overdue(NOW + timedelta(minutes=1))
    assert not has_overdue_invoice(user=customer, now=NOW + timedelta(minutes=1))


def test_an_invoice_is_overdue_from_the_day_after_its_due_date(customer, hosting):
    invoice = place_order(customer, hosting, now=NOW)[1]
    due = invoice.due_at
    assert not invoice.is_overdue(due.replace(hour=23, minute=59))
    assert invoice.is_overdue(due.replace(hour=0, minute=0) + timedelta(days=1))


def test_a_paid_invoice_is_never_overdue(customer, hosting, staff):
    invoice = place_order(customer, hosting, now=NOW)[1]
    invoice_mark_paid(invoice=invoice, staff_user=staff, now=NOW)
    invoice.refresh_from_db()
    assert not invoice.is_overdue(NOW + timedelta(days=60))
    assert invoice.amount_due == Decimal("0.00")


def rows(page):
    """The invoice numbers of the list's rows, in order."""
    body = page[page.index("<tbody>"):page.index("</tbody>")]
    return [line.split('class="font-monospace">')[1].split("<")[0]
            for line in body.split("<tr")[1:]]


def test_the_list_puts_overdue_invoices_first_and_labels_them(customer_client, customer, hosting,
                                                              staff):
    older = place_order(customer, hosting, name="old.example", now=NOW)[1]
    paid_old = place_order(customer, hosting, name="paid.example", now=NOW)[1]
    invoice_mark_paid(invoice=paid_old, staff_user=staff, now=NOW)
    newer = place_order(customer, hosting, name="new.example", now=NOW + timedelta(days=10))[1]
    with time_machine.travel(NOW + timedelta(days=5), tick=False):
        page = customer_client.get("/billing/invoices/").content.decode()
    assert rows(page) == [newer.number, paid_old.number, older.number]
    assert "Overdue" not in page
    with time_machine.travel(NOW + timedelta(days=16), tick=False):
        page = customer_client.get("/billing/invoices/").content.decode()
    assert rows(page) == [older.number, newer.number, paid_old.number]
    assert page.count("invoice-overdue") == 1


def test_the_list_shows_the_amount_due_and_the_due_date(customer_client, customer, hosting,
                                                        staff):
    unpaid = place_order(customer, hosting, name="unpaid.example", now=NOW)[1]
    paid = place_order(customer, hosting, name="paid.example", now=NOW)[1]
    invoice_mark_paid(invoice=paid, staff_user=staff, now=NOW)
    with time_machine.travel(NOW, tick=False):
        page = customer_client.get("/billing/invoices/").content.decode()
    assert "Amount due" in page and "03/24/2026" in page
    due_cells = page.split('invoice-amount-due"')[1:]
    amounts = {number: cell.split(">", 1)[1].split("<")[0] for number, cell in
               zip(rows(page), due_cells, strict=True)}
    assert amounts == {unpaid.number: "€60.38", paid.number: "€0.00"}


def test_the_invoice_page_labels_an_overdue_invoice(customer_client, customer, hosting):
    invoice = place_order(customer, hosting, now=NOW)[1]
    with time_machine.travel(datetime(2026, 3, 25, 8, 0, tzinfo=timezone.utc), tick=False):
        page = customer_client.get(f"/billing/invoices/{invoice.number}/").content.decode()
    assert 'id="invoice-status">Overdue' in page
