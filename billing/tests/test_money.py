from decimal import Decimal

import pytest

from billing.money import line_amounts, money
from billing.services.invoices import invoice_create, invoice_issue, invoice_line_add

from .conftest import NOW


@pytest.mark.parametrize("value, rounded", [
    ("0.005", "0.01"),
    ("0.004", "0.00"),
    ("2.675", "2.68"),
    ("2.665", "2.67"),
    ("1.005", "1.01"),
    ("-0.005", "-0.01"),
    ("19.99", "19.99"),
    (7, "7.00"),
])
def test_it_rounds_half_up_to_the_cent(value, rounded):
    assert money(value) == Decimal(rounded)
    assert str(money(value)) == rounded


def test_it_refuses_floats_which_would_round_2_675_down():
    assert round(2.675, 2) == 2.67  # what binary floats do
    with pytest.raises(TypeError):
        money(2.675)


def test_it_computes_tax_per_line_on_the_rounded_net_amount():
    assert line_amounts(unit_price=Decimal("19.99"), quantity=1, tax_rate=Decimal("21")) == (
        Decimal("19.99"), Decimal("4.20"), Decimal("24.19"))  # 4.1979 -> 4.20
    assert line_amounts(unit_price=Decimal("0.05"), quantity=1, tax_rate=Decimal("10")) == (
        Decimal("0.05"), Decimal("0.01"), Decimal("0.06"))  # 0.005 -> 0.01
    assert line_amounts(unit_price=Decimal("12.50"), quantity=1, tax_rate=Decimal("21.4")) == (
        Decimal("12.50"), Decimal("2.68"), Decimal("15.18"))  # 2.675 -> 2.68
    assert line_amounts(unit_price=Decimal("3.335"), quantity=3, tax_rate=Decimal("20")) == (
        Decimal("10.01"), Decimal("2.00"), Decimal("12.01"))  # 10.005 -> 10.01, then 2.002


def test_it_rounds_the_unit_price_to_the_cent_on_an_invoice_line(customer):
    invoice = invoice_create(customer=customer, kind="order", now=NOW)
    line = invoice_line_add(invoice=invoice, description="x", unit_price="0.125",
                            tax_rate=Decimal("20"))
    assert line.unit_price == Decimal("0.13")
    assert (line.net_amount, line.tax_amount, line.total_amount) == (
        Decimal("0.13"), Decimal("0.03"), Decimal("0.16"))


def test_invoice_totals_are_sums_of_the_rounded_lines(customer):
    """Three lines with 0.005 of tax each: 0.01 per line, so 0.03 in all (rounding the
    sum of the exact taxes, 0.015, would give 0.02)."""
    invoice = invoice_create(customer=customer, kind="order", now=NOW)
    for _ in range(3):
        invoice_line_add(invoice=invoice, description="SSL option", unit_price=Decimal("0.05"),
                         tax_rate=Decimal("10"))
    invoice_line_add(invoice=invoice, description="Hosting", unit_price=Decimal("19.99"),
                     tax_rate=Decimal("21"))
    invoice_issue(invoice=invoice, now=NOW)
    invoice.refresh_from_db()
    assert invoice.subtotal == Decimal("20.14")
    assert invoice.tax_total == Decimal("4.23")
    assert invoice.total == Decimal("24.37")
    assert invoice.tax_breakdown() == [
        (Decimal("10.00"), Decimal("0.15"), Decimal("0.03")),
        (Decimal("21.00"), Decimal("19.99"), Decimal("4.20")),
    ]
