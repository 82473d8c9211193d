"""Importing a bank statement (camt.053) reconciles its credit entries with invoices."""

import io
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from django.core import mail

from billing import references
from billing.models import (
    BankStatement,
    CreditMovement,
    Invoice,
    Payment,
    Service,
    StatementEntry,
)
from billing.services.reconciliation import statement_import
from portal.errors import DomainError

from .camt_builder import Credit, statement
from .conftest import place_order

pytestmark = pytest.mark.django_db

IMPORTED = datetime(2026, 3, 13, 9, 0, tzinfo=timezone.utc)
Outcome = StatementEntry.Outcome


def import_bytes(content, staff, name="statement.xml"):
    return statement_import(stream=io.BytesIO(content), size=len(content), file_name=name,
                            staff_user=staff, now=IMPORTED)


def ref(invoice):
    return references.reference_for(invoice.number, invoice.customer_nic_handle)


@pytest.fixture
def invoices(customer, hosting, domain):
    """Five unpaid invoices of the customer: 59.88 (hosting, a year) and 15.59 (domain)."""
    return [place_order(customer, product, name=f"site{n}.example")[1]
            for n, product in enumerate((hosting, domain, hosting, hosting, domain))]


def test_a_statement_pays_matched_invoices_and_lists_the_rest_with_a_reason(
        customer, invoices, staff, django_capture_on_commit_callbacks):
    by_ref, by_text, by_amount, partial, over = invoices
    content = statement([
        Credit(by_ref.total, "BANK-1", structured=ref(by_ref)),
        Credit(by_text.total, "BANK-2",
               unstructured=f"Invoice {references.formatted(ref(by_text))} thanks"),
        Credit(by_amount.total, "BANK-3", unstructured=f"hosting {customer.nic_handle}"),
        Credit("10.00", "BANK-4", structured=ref(partial)),
        Credit(over.total + Decimal("5.00"), "BANK-5", structured=ref(over)),
        Credit("42.00", "BANK-6", unstructured="Rent for March"),
        Credit("1.00", "BANK-1", structured=ref(by_ref)),  # the same bank reference again
        Credit("99.00", "DEBIT-1", credit=False),
    ])
    with django_capture_on_commit_callbacks(execute=True):
        report = import_bytes(content, staff)

    statement_row = report.statement
    assert (statement_row.entries_new, statement_row.entries_known,
            statement_row.entries_skipped) == (6, 1, 1)
    outcomes = dict(StatementEntry.objects.values_list("bank_reference", "outcome"))
    assert outcomes == {"BANK-1": Outcome.MATCHED, "BANK-2": Outcome.MATCHED,
                        "BANK-3": Outcome.MATCHED_BY_AMOUNT, "BANK-4": Outcome.PARTIAL,
                        "BANK-5": Outcome.OVERPAID, "BANK-6": Outcome.UNMATCHED}
    for invoice in (by_ref, by_text, by_amount, over):
        invoice.refresh_from_db()
        assert invoice.is_paid and invoice.amount_due == Decimal("0.00")
    partial.refresh_from_db()
    assert not partial.is_paid and partial.amount_due == partial.total - Decimal("10.00")
    reasons = dict(StatementEntry.objects.values_list("bank_reference", "reason"))
    assert f"{partial.total - Decimal('10.00')} EUR still due" in reasons["BANK-4"]
    assert "5.00 EUR made account credit" in reasons["BANK-5"]
    assert "No payment reference and no NIC handle" in reasons["BANK-6"]
    assert CreditMovement.objects.get().amount == Decimal("5.00")
    # Paid through the same service as "Mark paid": delivered, customer emailed.
    assert Service.objects.filter(status=Service.Status.ACTIVE).count() == 4
    assert len(mail.outbox) == 4
    payment = Payment.objects.get(bank_reference="BANK-1")
    assert (payment.method, payment.amount, payment.recorded_by) == (
        Payment.Method.BANK_TRANSFER, by_ref.total, staff)


def test_importing_the_same_statement_twice_changes_nothing(customer, invoices, staff):
    content = statement([Credit(invoices[0].total, "BANK-1", structured=ref(invoices[0])),
                         Credit("3.00", "BANK-2", structured=ref(invoices[1])),
                         Credit("8.00", "BANK-3", unstructured="who knows")])
    import_bytes(content, staff)
    snapshot = (list(Payment.objects.values_list("pk", "amount")),
                list(StatementEntry.objects.values_list("pk", "outcome")),
                list(CreditMovement.objects.values_list("pk")))
    again = import_bytes(content, staff).statement
    assert (again.entries_new, again.entries_known) == (0, 3)
    assert snapshot == (list(Payment.objects.values_list("pk", "amount")),
                        list(StatementEntry.objects.values_list("pk", "outcome")),
                        list(CreditMovement.objects.values_list("pk")))


def test_a_reference_naming_another_customer_is_not_paid(customer, other_customer, invoices,
                                                         staff):
    forged = references.reference_for(invoices[0].number, other_customer.nic_handle)
    import_bytes(statement([Credit(invoices[0].total, "BANK-9", structured=forged)]), staff)
    entry = StatementEntry.objects.get()
    assert entry.outcome == Outcome.UNMATCHED and "another customer" in entry.reason
    assert Invoice.objects.get(pk=invoices[0].pk).amount_due == invoices[0].total


def test_an_unknown_invoice_number_is_listed_with_its_reason(customer, invoices, staff):
    unknown = references.reference_for("FR2026-009999", customer.nic_handle)
    import_bytes(statement([Credit("12.00", "BANK-7", structured=unknown)]), staff)
    entry = StatementEntry.objects.get()
    assert entry.outcome == Outcome.UNMATCHED
    assert "FR2026-009999, which does not exist" in entry.reason


def test_an_amount_that_no_invoice_has_due_is_not_matched_by_nic_handle(customer, invoices,
                                                                       staff):
    import_bytes(statement([Credit("1.23", "BANK-8", unstructured=customer.nic_handle)]), staff)
    entry = StatementEntry.objects.get()
    assert entry.outcome == Outcome.UNMATCHED
    assert "has exactly 1.23 EUR due" in entry.reason
    assert not Payment.objects.exists()


def test_an_over_payment_becomes_credit_that_the_next_invoice_uses(customer, invoices, staff,
                                                                   hosting):
    first = invoices[0]
    import_bytes(statement([Credit(first.total + Decimal("100.00"), "BANK-1",
                                   structured=ref(first))]), staff)
    _order, following, service = place_order(customer, hosting, name="next.example")
    following.refresh_from_db()
    service.refresh_from_db()
    assert following.amount_due == Decimal("0.00") and following.is_paid
    assert service.status == Service.Status.ACTIVE
    used = Payment.objects.get(invoice=following)
    assert (used.method, used.amount) == (Payment.Method.ACCOUNT_CREDIT, following.total)
    left = Decimal("100.00") - following.total
    assert sum(CreditMovement.objects.values_list("amount", flat=True)) == left


def test_a_payment_after_a_partial_one_settles_the_invoice(customer, invoices, staff):
    invoice = invoices[1]
    import_bytes(statement([Credit("5.00", "BANK-1", structured=ref(invoice))]), staff)
    import_bytes(statement([Credit(invoice.total - Decimal("5.00"), "BANK-2",
                                   structured=ref(invoice))], message_id="NEXT"), staff)
    invoice.refresh_from_db()
    assert invoice.is_paid and invoice.amount_due == Decimal("0.00")
    assert StatementEntry.objects.get(bank_reference="BANK-2").outcome == Outcome.MATCHED


# --- Refused files: a message, and nothing recorded --------------------------------------


def assert_refused(content, staff, message, **kwargs):
    with pytest.raises(DomainError) as refused:
        import_bytes(content, staff, **kwargs)
    assert message in refused.value.message
    assert not BankStatement.objects.exists()
    assert not StatementEntry.objects.exists()
    assert not Payment.objects.exists()
    assert not CreditMovement.objects.exists()


def test_a_file_that_is_not_xml_is_refused(staff, invoices):
    assert_refused(b"%PDF-1.7 not a statement", staff, "This file is not XML")


def test_another_xml_schema_is_refused(staff, invoices):
    other = (b'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:'
             b'pain.001.001.09"><CstmrCdtTrfInitn/></Document>')
    assert_refused(other, staff, "not an ISO 20022 camt.053 or camt.054 statement")


def test_another_currency_refuses_the_whole_file_even_after_good_entries(staff, invoices):
    content = statement([Credit(invoices[0].total, "BANK-1", structured=ref(invoices[0])),
                         Credit("10.00", "BANK-2", currency="USD")])
    assert_refused(content, staff, "an entry in USD; only EUR")
    assert not Invoice.objects.filter(paid_at__isnull=False).exists()


def test_a_statement_of_debits_only_is_refused(staff, invoices):
    content = statement([Credit("10.00", "DEBIT-1", credit=False),
                         Credit("20.00", "DEBIT-2", credit=False)])
    assert_refused(content, staff, "holds no credit entry")


def test_a_file_too_big_is_refused_before_it_is_read(staff, invoices, settings):
    settings.BANK_STATEMENT_MAX_BYTES = 1024 * 1024
    assert_refused(b" " * (1024 * 1024 + 1), staff, "The file is too big (1 MB at most)")


def test_an_entity_expansion_bomb_is_refused(staff, invoices):
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">&lol2;</Document>')
    assert_refused(bomb, staff, "declares a DTD or entities")


def test_an_entry_without_a_bank_reference_is_refused(staff, invoices):
    content = statement([Credit("10.00", "")])
    assert_refused(content, staff, "Entry 1 has no bank reference")


def test_an_invalid_amount_is_refused(staff, invoices):
    assert_refused(statement([Credit("12.3456", "BANK-1")]), staff, "Entry 1 is not valid")
    assert_refused(statement([Credit("-5.00", "BANK-1")]), staff, "Entry 1 is not valid")


def test_an_amount_past_what_the_columns_hold_is_refused_not_a_500(staff, invoices):
    # Regression: 1E+30 made quantize() raise InvalidOperation, and 10^10 overflowed
    # the 12-digit column on PostgreSQL (a 500 either way).
    for amount in ("1E+30", "1e999999", "99999999999999999999.99", "10000000000.00"):
        assert_refused(statement([Credit(amount, "BANK-1")]), staff, "Entry 1 is not valid")
    report = import_bytes(statement([Credit("9999999999.99", "BANK-1")]), staff)
    assert report.statement.entries_new == 1


def test_an_xml_declaration_naming_an_unknown_encoding_is_refused_not_a_500(staff, invoices):
    # Regression: the parser's LookupError reached the page as a 500.
    content = statement([Credit("10.00", "BANK-1")]).replace(b'encoding="UTF-8"',
                                                             b'encoding="nonsense"')
    assert_refused(content, staff, "This file is not XML")


def test_a_pending_entry_is_skipped(staff, invoices):
    content = statement([Credit(invoices[0].total, "BANK-1", structured=ref(invoices[0])),
                         Credit(invoices[1].total, "BANK-2", structured=ref(invoices[1]),
                                status="PDNG")])
    report = import_bytes(content, staff)
    assert (report.statement.entries_new, report.statement.entries_skipped) == (1, 1)
    assert not Invoice.objects.get(pk=invoices[1].pk).is_paid


def test_a_camt054_notification_is_read_as_well(customer, invoices, staff):
    content = statement([Credit(invoices[0].total, "NTF-1", structured=ref(invoices[0]))])
    content = (content.replace(b"camt.053.001.08", b"camt.054.001.08")
               .replace(b"BkToCstmrStmt", b"BkToCstmrDbtCdtNtfctn")
               .replace(b"<Stmt>", b"<Ntfctn>").replace(b"</Stmt>", b"</Ntfctn>"))
    import_bytes(content, staff)
    assert Invoice.objects.get(pk=invoices[0].pk).is_paid


def test_an_import_costs_a_few_queries_per_entry_and_renews_each_invoice_list_once(
        customer, other_customer, staff, django_assert_max_num_queries):
    """Issue 18: ~16 queries per entry before (an existence check and a savepoint per
    entry, a savepoint and an invoice-list bump per payment); 10 after; 11 since each
    security log line also renews the customer's security page version. Invoices without
    lines: a payment with nothing to deliver."""
    issued = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
    invoices = Invoice.objects.bulk_create([
        Invoice(customer=owner, kind=Invoice.Kind.RENEWAL, status=Invoice.Status.ISSUED,
                created_at=issued, issued_at=issued, due_at=issued, year=2026, sequence=n,
                number=f"FR2026-{n:06d}", customer_nic_handle=owner.nic_handle,
                subtotal=Decimal("10.00"), tax_total=Decimal("2.00"), total=Decimal("12.00"))
        for n, owner in enumerate([customer, other_customer] * 10, start=1)])
    versions = {user.pk: user.invoice_list_version for user in (customer, other_customer)}
    content = statement([Credit("12.00", f"BANK-{n}", structured=ref(invoice))
                         for n, invoice in enumerate(invoices)])

    with django_assert_max_num_queries(11 * len(invoices)):
        report = import_bytes(content, staff)

    assert report.counts[Outcome.MATCHED] == len(invoices)
    assert Invoice.objects.filter(paid_at__isnull=False).count() == len(invoices)
    for user in (customer, other_customer):
        user.refresh_from_db()
        assert user.invoice_list_version != versions[user.pk]  # its list shows the payments
    assert import_bytes(content, staff).statement.entries_known == len(invoices)
    assert Payment.objects.count() == len(invoices)
