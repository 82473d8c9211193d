"""Totals across invoices, credit notes and payments always balance, for any lines, VAT
rates, payments (short, exact or over) and credit notes: per customer,

    invoiced − credited − received = due − credit

where `received` is the money that came in and `credit` the account credit. All Decimal."""

import itertools
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.models import CreditMovement, Invoice, Payment
from billing.selectors import account_balance
from billing.services.credit_notes import credit_note_issue
from billing.services.invoices import invoice_create, invoice_issue, invoice_line_add
from billing.services.payments import payment_record
from conftest import make_customer

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=timezone.utc)
counter = itertools.count()

cents = st.integers(min_value=1, max_value=500_000).map(lambda n: Decimal(n) / 100)
lines = st.lists(st.tuples(cents, st.integers(1, 5),
                           st.sampled_from([Decimal("0"), Decimal("5.5"), Decimal("10"),
                                            Decimal("20"), Decimal("21"), Decimal("27")])),
                 min_size=1, max_size=4)
operations = st.lists(st.one_of(
    st.tuples(st.just("pay"), st.integers(0, 9), cents),
    st.tuples(st.just("pay_due"), st.integers(0, 9), st.none()),
    st.tuples(st.just("credit_note"), st.integers(0, 9), st.lists(st.integers(0, 3),
                                                                  max_size=4)),
    st.tuples(st.just("invoice"), st.integers(0, 9), lines),
), max_size=8)


def issue(customer, invoice_lines):
    draft = invoice_create(customer=customer, kind=Invoice.Kind.RENEWAL, now=NOW)
    for unit_price, quantity, rate in invoice_lines:
        invoice_line_add(invoice=draft, description="Line", unit_price=unit_price,
                         quantity=quantity, tax_rate=rate)
    return invoice_issue(invoice=draft, now=NOW)


def assert_balanced(customer):
    balance = account_balance(user=customer)
    for value in (balance.invoiced, balance.credited, balance.received, balance.due,
                  balance.credit):
        assert isinstance(value, Decimal)
        assert value == value.quantize(Decimal("0.01"))
    assert balance.due >= 0 and balance.credit >= 0
    assert balance.invoiced - balance.credited - balance.received == balance.due - balance.credit
    # Per invoice: never more applied than its total.
    for invoice in Invoice.objects.filter(customer=customer).prefetch_related(
            "payments", "credit_notes"):
        assert invoice.amount_paid + min(invoice.amount_credited, invoice.total) >= 0
        assert invoice.amount_paid <= invoice.total


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(first=lines, ops=operations)
def test_invoiced_minus_credited_minus_received_is_due_minus_credit(staff, first, ops):
    customer = make_customer(f"prop{next(counter)}@example.org")
    invoices = [issue(customer, first)]
    for kind, index, value in ops:
        invoice = invoices[index % len(invoices)]
        if kind == "pay":
            payment_record(invoice=invoice, amount=value, method=Payment.Method.BANK_TRANSFER,
                           now=NOW, staff_user=staff)
        elif kind == "pay_due":
            payment_record(invoice=invoice, amount=None, method=Payment.Method.MANUAL, now=NOW,
                           staff_user=staff)
        elif kind == "credit_note":
            free = list(invoice.lines.filter(credited_by__isnull=True).order_by("pk"))
            if free:
                # No index chosen: every line not credited yet (the whole invoice when
                # none is).
                chosen = {free[n % len(free)].pk for n in value or range(len(free))}
                credit_note_issue(invoice=invoice, staff_user=staff, reason="r", now=NOW,
                                  line_ids=chosen)
        else:
            invoices.append(issue(customer, value))
        assert_balanced(customer)
    assert_balanced(customer)
    # Credit is only ever spent on what an invoice had due.
    used = -sum(CreditMovement.objects.filter(customer=customer, kind="used")
                .values_list("amount", flat=True))
    assert used == sum(Payment.objects.filter(invoice__customer=customer,
                                              method=Payment.Method.ACCOUNT_CREDIT)
                       .values_list("amount", flat=True))
