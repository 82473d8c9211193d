"""Benchmark: reconciling a bank statement of BENCH_STATEMENT_ENTRIES entries (issue 15;
1,000 by default so that `make bench` stays under 10 minutes; 10,000, as issue 15
measured, with BENCH_STATEMENT_ENTRIES=10000).

1. Issue one invoice per entry for a few customers (bulk SQL, no lines: nothing to
   deliver), and write a camt.053 statement to a temporary file, entry by entry
   (billing/tests/camt_builder.py): 90 % pay their invoice exactly by reference, 5 % pay
   part of it, 5 % name nothing we know.
2. The floor, measured in the same run on the same file: a plain loop that only parses
   it (billing.camt.CamtReader, the same streaming reader, no database).
3. The real import (billing.services.reconciliation.statement_import): one transaction,
   each entry recorded, matched and paid through the payment service.
Prints both times and their ratio, then the peak Python memory (tracemalloc) of the
import at a tenth of the entries and at all of them, each on a fresh statement and
fresh invoices. Targets: the peak at full size is under MAX_PEAK_MB, and what it adds
over the peak at a tenth stays under MAX_BYTES_PER_ENTRY per extra entry (the file is
never held: a first run measured 0.3 MB at 1,000 and 0.9 MB at 10,000, about 65 bytes
per entry); the import takes under MAX_RATIO times the parse-only loop (the baseline:
the same file, so it scales with the size). Both rows go to `make bench`'s table.

`make bench`, or `python -m pytest benchmarks/bench_reconciliation.py -s -p no:cacheprovider`
(SQLite in a file; set DATABASE_URL=postgres://... for PostgreSQL).
"""

import os
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.conf import settings

from benchmarks.table import record
from billing import references
from billing.camt import CamtReader
from billing.models import Invoice, Payment, StatementEntry
from billing.services.reconciliation import statement_import
from billing.tests.camt_builder import Credit, write_statement
from conftest import make_customer

LARGE = int(os.environ.get("BENCH_STATEMENT_ENTRIES", "1000"))
SMALL = LARGE // 10
MAX_PEAK_MB = 16
MAX_RATIO = 400.0
MAX_BYTES_PER_ENTRY = 200
NOW = datetime(2026, 6, 1, 9, 0, tzinfo=timezone.utc)
TOTAL = Decimal("12.00")


def invoices_and_statement(count, year, customers, folder):
    """`count` issued invoices of `year` spread over `customers`, and the path of a
    statement paying them (see the module's docstring)."""
    first_day = datetime(year, 1, 1, 8, 0, tzinfo=timezone.utc)
    invoices = Invoice.objects.bulk_create([
        Invoice(customer=customers[n % len(customers)], kind=Invoice.Kind.RENEWAL,
                status=Invoice.Status.ISSUED, created_at=first_day,
                issued_at=first_day + timedelta(seconds=n), due_at=first_day, year=year,
                sequence=n, number=f"FR{year}-{n:06d}",
                customer_nic_handle=customers[n % len(customers)].nic_handle,
                subtotal=Decimal("10.00"), tax_total=Decimal("2.00"), total=TOTAL)
        for n in range(1, count + 1)], batch_size=1000)

    def entries():
        for n, invoice in enumerate(invoices):
            reference = references.reference_for(invoice.number, invoice.customer_nic_handle)
            if n % 20 == 0:
                yield Credit("7.00", f"B{year}-{n}", unstructured=f"Order {n}, thanks")
            elif n % 20 == 1:
                yield Credit("5.00", f"B{year}-{n}", structured=reference)
            else:
                yield Credit(TOTAL, f"B{year}-{n}", structured=reference)

    path = os.path.join(folder, f"statement-{year}.xml")
    with open(path, "wb") as out:
        write_statement(out, entries(), message_id=f"BENCH-{year}")
    return path


def parse_only(path):
    with open(path, "rb") as stream:
        return sum(1 for _entry in CamtReader(stream))


def reconcile(path, staff):
    with open(path, "rb") as stream:
        return statement_import(stream=stream, size=os.path.getsize(path), file_name="bench.xml",
                                staff_user=staff, now=NOW)


def peak_mb(work):
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1] / (1024 * 1024)
    finally:
        tracemalloc.stop()


@pytest.mark.django_db(transaction=True)
def test_reconciling_a_statement_in_bounded_time_and_memory():
    settings.BANK_STATEMENT_MAX_BYTES = 100 * 1024 * 1024
    customers = [make_customer(f"bench{n}@example.org") for n in range(5)]
    staff = make_customer("bench-staff@example.org")
    with tempfile.TemporaryDirectory() as folder:
        large = invoices_and_statement(LARGE, 2030, customers, folder)
        size_mb = os.path.getsize(large) / (1024 * 1024)

        started = time.perf_counter()
        assert parse_only(large) == LARGE
        parse_seconds = time.perf_counter() - started

        started = time.perf_counter()
        report = reconcile(large, staff)
        import_seconds = time.perf_counter() - started
        assert report.statement.entries_new == LARGE
        assert Payment.objects.filter(invoice__year=2030).count() == LARGE - LARGE // 20
        assert StatementEntry.objects.filter(outcome="matched").count() == LARGE * 18 // 20

        small = invoices_and_statement(SMALL, 2031, customers, folder)
        small_peak = peak_mb(lambda: reconcile(small, staff))
        large = invoices_and_statement(LARGE, 2032, customers, folder)
        large_peak = peak_mb(lambda: reconcile(large, staff))

    ratio = import_seconds / parse_seconds
    print(f"\nReconciliation of {LARGE:,} entries ({size_mb:.1f} MB, "
          f"{connection_vendor()}):")
    print(f"  parse-only loop      {parse_seconds:8.2f} s")
    print(f"  statement_import     {import_seconds:8.2f} s   ratio {ratio:.1f}  "
          f"(target < {MAX_RATIO:.0f})")
    print(f"  peak memory of the import (tracemalloc): "
          f"{SMALL:,} entries {small_peak:.1f} MB, {LARGE:,} entries {large_peak:.1f} MB "
          f"(target < {MAX_PEAK_MB} MB)")
    per_entry = (large_peak - small_peak) * 1024 * 1024 / (LARGE - SMALL)
    print(f"  growth {per_entry:.0f} bytes per extra entry (target < {MAX_BYTES_PER_ENTRY})")
    record(f"bank statement import, {LARGE:,} entries",
           f"parse-only loop {parse_seconds:.2f} s",
           f"{import_seconds:.2f} s ({import_seconds / LARGE * 1000:.1f} ms per entry)",
           f"{ratio:.1f}", f"< {MAX_RATIO:.0f}", ratio < MAX_RATIO)
    record("bank statement import, peak memory",
           f"{SMALL:,} entries: {small_peak:.1f} MB",
           f"{LARGE:,} entries: {large_peak:.1f} MB, {per_entry:.0f} B per extra entry", "—",
           f"< {MAX_PEAK_MB} MB, < {MAX_BYTES_PER_ENTRY} B per entry",
           large_peak < MAX_PEAK_MB and per_entry < MAX_BYTES_PER_ENTRY)
    assert large_peak < MAX_PEAK_MB
    assert per_entry < MAX_BYTES_PER_ENTRY
    assert ratio < MAX_RATIO


def connection_vendor():
    from django.db import connection

    return connection.vendor
