from datetime import datetime, timezone
from decimal import Decimal

import pytest
from django.db import transaction

from billing.models import Invoice, InvoiceIssued, InvoiceSequence
from billing.services.invoices import invoice_create, invoice_issue, invoice_line_add
from conftest import make_customer, run_at_once

from .conftest import NOW

pytestmark = pytest.mark.django_db


def draft(customer, now=NOW, price="10.00"):
    invoice = invoice_create(customer=customer, kind=Invoice.Kind.ORDER, now=now)
    invoice_line_add(invoice=invoice, description="Web hosting", unit_price=Decimal(price),
                     tax_rate=Decimal("20"))
    return invoice


def test_it_numbers_invoices_one_after_the_other(customer, other_customer):
    numbers = [invoice_issue(invoice=draft(person), now=NOW).number
               for person in (customer, other_customer, customer)]
    assert numbers == ["FR2026-000001", "FR2026-000002", "FR2026-000003"]
    assert InvoiceSequence.objects.get(year=2026).last_number == 3


def test_it_starts_again_at_one_each_year(customer):
    invoice_issue(invoice=draft(customer), now=NOW)
    new_year = datetime(2027, 1, 1, 0, 0, 1, tzinfo=timezone.utc)
    assert invoice_issue(invoice=draft(customer, new_year), now=new_year).number == "FR2027-000001"


def test_a_rolled_back_issue_gives_its_number_back(customer):
    invoice_issue(invoice=draft(customer), now=NOW)
    with pytest.raises(RuntimeError), transaction.atomic():
        lost = invoice_issue(invoice=draft(customer), now=NOW)
        assert lost.number == "FR2026-000002"
        raise RuntimeError("the order failed after the invoice took its number")
    assert invoice_issue(invoice=draft(customer), now=NOW).number == "FR2026-000002"


def test_it_freezes_the_customer_and_seller_details(customer, settings):
    settings.SELLER_NAME = "Hosting Example SAS"
    invoice = invoice_issue(invoice=draft(customer), now=NOW)
    customer.address, customer.city = "99 Another Street", "Sevilla"
    customer.save()
    settings.SELLER_NAME = "Renamed Seller"
    invoice.refresh_from_db()
    assert invoice.customer_nic_handle == customer.nic_handle
    assert invoice.customer_name == "Daniel Martín"
    assert invoice.customer_address == "1 Calle Mayor\n28013 Madrid\nSpain"
    assert invoice.seller_name == "Hosting Example SAS"
    assert (invoice.issued_at, invoice.year, invoice.sequence) == (NOW, 2026, 1)
    assert invoice.total == Decimal("12.00")


def test_it_refuses_to_add_a_line_to_an_issued_invoice(customer):
    invoice = invoice_issue(invoice=draft(customer), now=NOW)
    with pytest.raises(InvoiceIssued):
        invoice_line_add(invoice=invoice, description="Extra", unit_price=Decimal("1.00"),
                         tax_rate=Decimal("20"))
    assert invoice.lines.count() == 1
    assert Invoice.objects.get(pk=invoice.pk).total == Decimal("12.00")


def test_it_refuses_a_line_even_through_an_instance_loaded_before_the_issue(customer):
    invoice = draft(customer)
    loaded_before = Invoice.objects.get(pk=invoice.pk)
    invoice_issue(invoice=invoice, now=NOW)
    assert loaded_before.status == Invoice.Status.DRAFT
    with pytest.raises(InvoiceIssued):
        invoice_line_add(invoice=loaded_before, description="Extra", unit_price=Decimal("1.00"),
                         tax_rate=Decimal("20"))
    assert invoice.lines.count() == 1


def test_it_refuses_to_issue_an_invoice_twice(customer):
    invoice = invoice_issue(invoice=draft(customer), now=NOW)
    with pytest.raises(InvoiceIssued):
        invoice_issue(invoice=invoice, now=NOW)
    invoice.refresh_from_db()
    assert invoice.number == "FR2026-000001"
    assert InvoiceSequence.objects.get(year=2026).last_number == 1


def test_it_refuses_to_issue_an_empty_invoice(customer):
    invoice = invoice_create(customer=customer, kind=Invoice.Kind.ORDER, now=NOW)
    with pytest.raises(ValueError):
        invoice_issue(invoice=invoice, now=NOW)
    assert not InvoiceSequence.objects.filter(last_number__gt=0).exists()


ISSUERS = 24


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_concurrent_issuing_on_postgresql_leaves_no_gap_and_no_duplicate(postgres):
    """24 threads issue at the same moment, each in its own transaction, and a quarter of
    them roll back after taking a number: the committed numbers are exactly 1..N."""
    customers = [make_customer(f"buyer{n}@example.org") for n in range(ISSUERS)]
    drafts = [draft(person) for person in customers]
    def issue(n):
        try:
            with transaction.atomic():
                invoice_issue(invoice=drafts[n], now=NOW)
                if n % 4 == 0:
                    raise LookupError("rolled back on purpose")
        except LookupError:
            pass

    _results, errors = run_at_once(issue, ISSUERS)
    assert errors == []
    issued = Invoice.objects.filter(status=Invoice.Status.ISSUED)
    committed = ISSUERS - len(range(0, ISSUERS, 4))
    assert sorted(issued.values_list("sequence", flat=True)) == list(range(1, committed + 1))
    assert sorted(issued.values_list("number", flat=True)) == [
        f"FR2026-{n:06d}" for n in range(1, committed + 1)]
    assert InvoiceSequence.objects.get(year=2026).last_number == committed
