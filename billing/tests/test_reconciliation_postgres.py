"""Two imports of the same statement at once, on PostgreSQL: each entry is recorded and
paid once."""

import io
from datetime import datetime, timezone

import pytest
from django.db.models import Sum

from billing import references
from billing.models import BankStatement, CreditMovement, Payment, StatementEntry
from billing.services.reconciliation import statement_import
from conftest import run_at_once

from .camt_builder import Credit, statement
from .conftest import catalogue_product, place_order

IMPORTED = datetime(2026, 3, 13, 9, 0, tzinfo=timezone.utc)
IMPORTERS = 4


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_the_same_statement_imported_at_once_records_each_entry_once(postgres, customer, staff):
    hosting = catalogue_product("web-hosting")
    invoices = [place_order(customer, hosting, name=f"s{n}.example")[1] for n in range(6)]
    entries = [Credit(invoice.total + (1 if n == 5 else 0), f"BANK-{n}",
                      structured=references.reference_for(invoice.number, customer.nic_handle))
               for n, invoice in enumerate(invoices)]
    entries.append(Credit("3.00", "BANK-X", unstructured="unknown"))
    content = statement(entries)

    def run(_n):
        return statement_import(stream=io.BytesIO(content), size=len(content),
                                file_name="s.xml", staff_user=staff, now=IMPORTED)

    results, errors = run_at_once(run, IMPORTERS)
    assert errors == []
    assert sum(result.statement.entries_new for result in results) == len(entries)
    assert BankStatement.objects.count() == IMPORTERS
    assert StatementEntry.objects.count() == len(entries)
    assert Payment.objects.count() == len(invoices)
    assert Payment.objects.aggregate(s=Sum("amount"))["s"] == sum(i.total for i in invoices)
    assert CreditMovement.objects.get().amount == 1
