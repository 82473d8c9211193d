"""billing 0010: invoices issued before due dates existed become due 14 days after their
issue; lines written before VAT by country keep the French standard rate as their
reason."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from conftest import make_customer

BEFORE = [("billing", "0011_order_number_required")]
AFTER = [("billing", "0013_due_dates_and_vat_backfill")]
ISSUED = datetime(2026, 2, 1, 10, 0, tzinfo=timezone.utc)


@pytest.mark.django_db(transaction=True)
def test_existing_invoices_are_due_14_days_after_their_issue_and_lines_keep_french_vat():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps
        # Only billing goes back: the accounts tables stay as they are now.
        user = make_customer("old@example.org")
        invoice = old.get_model("billing", "Invoice").objects.create(
            customer_id=user.pk, kind="order", status="issued", created_at=ISSUED, issued_at=ISSUED,
            due_at=ISSUED, number="FR2026-000001", year=2026, sequence=1)
        line = old.get_model("billing", "InvoiceLine").objects.create(
            invoice=invoice, description="Hosting", unit_price=Decimal("10.00"),
            tax_rate=Decimal("20"), net_amount=Decimal("10.00"), tax_amount=Decimal("2.00"),
            total_amount=Decimal("12.00"))

        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
        new = executor.loader.project_state(AFTER).apps
        assert new.get_model("billing", "Invoice").objects.get(
            pk=invoice.pk).due_at == ISSUED + timedelta(days=14)
        migrated = new.get_model("billing", "InvoiceLine").objects.get(pk=line.pk)
        assert (migrated.tax_rate, migrated.tax_reason, migrated.tax_country) == (
            Decimal("20"), "standard", "FR")
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
