"""Reconciliation: staff import the bank's statement (camt.053 or camt.054) and each credit
entry pays the invoice it names, through the same service as "Mark paid"
(billing.services.payments.payment_record).

1. Refuse a file too big, not XML, of another schema, in another currency, or with no
   credit entry at all: with a message, and nothing recorded (one transaction).
2. Record each credit entry once, by its bank reference (a unique column): an entry of a
   statement imported before, or twice in this one, is counted and skipped. Two imports
   of the same file at once: the second waits on the first's rows, then skips them.
3. Match it: by our payment reference (billing.references) in the structured reference
   or the remittance text; failing that, by the exact amount due of an unpaid invoice of
   the NIC handle named in the remittance text.
4. Pay the invoice: a partial payment leaves the rest due, an over-payment becomes
   account credit. Whatever needs a human (unmatched, partial, over-paid) keeps its
   reason on the entry, listed in admin.

Memory stays bounded whatever the size of the file: the statement is read one entry at
a time (billing.camt) and nothing is kept per entry once it is recorded (only the ids of
the customers paid, whose invoice lists get a new version once, at the end).

Time: an entry costs the few queries it needs (recorded with one INSERT ... ON CONFLICT
DO NOTHING, matched, paid through the payment service without a savepoint of its own);
issue 18 measured ~16 queries per entry before (an existence check and a savepoint
around the insert, a savepoint and an invoice-list version bump per payment)."""

import re
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext

from accounts.models import User
from billing import references
from billing.camt import CamtReader, Entry, StatementError
from billing.models import BankStatement, Invoice, Payment, StatementEntry
from billing.money import CURRENCY
from billing.services.invoice_list import invoice_lists_changed
from billing.services.payments import invoice_due_locked, payment_record
from portal.errors import DomainError

Outcome = StatementEntry.Outcome


@dataclass(frozen=True)
class ImportReport:
    statement: BankStatement
    counts: dict[str, int]  # entries recorded by outcome


def statement_import(*, stream: BinaryIO, size: int, file_name: str, staff_user: User,
                     now: datetime) -> ImportReport:
    """Import one statement file (see the module's docstring). Raises DomainError with
    a message for staff when the file is refused; then nothing is recorded."""
    if size > settings.BANK_STATEMENT_MAX_BYTES:
        raise DomainError(gettext("The file is too big (%(size)d MB at most).")
                          % {"size": settings.BANK_STATEMENT_MAX_BYTES // (1024 * 1024)},
                          field="statement", code="size")
    reader = CamtReader(stream)
    counts = {outcome: 0 for outcome in Outcome.values}
    paid_customers: set[int] = set()
    try:
        with transaction.atomic():
            statement = BankStatement.objects.create(imported_at=now, imported_by=staff_user,
                                                     file_name=file_name[:255])
            for entry in reader:
                if entry.currency != CURRENCY:
                    raise StatementError("currency", "wrong currency",
                                         currency=entry.currency[:3])
                if not (entry.credit and entry.booked and not entry.reversal):
                    statement.entries_skipped += 1
                    continue
                recorded = _entry_record(statement=statement, entry=entry, staff_user=staff_user,
                                         now=now)
                if recorded is None:
                    statement.entries_known += 1
                else:
                    statement.entries_new += 1
                    counts[recorded.outcome] += 1
                    if recorded.customer_id:
                        paid_customers.add(recorded.customer_id)
            if not reader.kind:
                raise StatementError("schema", "empty")
            if not statement.entries_new + statement.entries_known:
                raise StatementError("no_credit", "no credit entry")
            invoice_lists_changed(customer_ids=paid_customers)
            statement.message_id = reader.message_id
            statement.save(update_fields=["message_id", "entries_new", "entries_known",
                                          "entries_skipped"])
    except StatementError as error:
        raise DomainError(_refusal(error), field="statement", code=error.code) from None
    return ImportReport(statement=statement, counts=counts)


def _refusal(error: StatementError) -> str:
    messages = {
        "xml": gettext("This file is not XML: upload the bank statement as the bank gives it "
                       "(ISO 20022 camt.053 or camt.054)."),
        "dtd": gettext("This file declares a DTD or entities, which a bank statement never "
                       "does: it is refused."),
        "schema": gettext("This file is not an ISO 20022 camt.053 or camt.054 statement."),
        "currency": gettext("This statement has an entry in %(currency)s; only %(expected)s "
                            "entries are reconciled. Nothing was imported.")
        % {"currency": error.details.get("currency") or "?", "expected": CURRENCY},
        "no_credit": gettext("This statement holds no credit entry (debits only, or "
                             "nothing booked): nothing to reconcile."),
        "reference": gettext("Entry %(number)d has no bank reference (AcctSvcrRef or "
                             "NtryRef), so it could not be recorded once only. Nothing was "
                             "imported.") % {"number": error.details.get("entry", 0)},
        "entry": gettext("Entry %(number)d is not valid (amount, date or direction). Nothing "
                         "was imported.") % {"number": error.details.get("entry", 0)},
    }
    return messages[error.code]


def _entry_record(*, statement: BankStatement, entry: Entry, staff_user: User,
                  now: datetime) -> StatementEntry | None:
    """Record and reconcile one credit entry; None when its bank reference is known."""
    recorded = StatementEntry(
        statement=statement, bank_reference=entry.bank_reference, booked_on=entry.booked_on,
        amount=entry.amount, debtor_name=entry.debtor_name,
        remittance="\n".join(filter(None, (entry.structured_reference, entry.remittance))),
        outcome=Outcome.UNMATCHED)
    if not _entry_insert_once(recorded):
        return None
    invoice, how, reason = _match(entry)
    if invoice is None:
        recorded.reason = reason
        recorded.save(update_fields=["reason"])
        return recorded
    paid = payment_record(invoice=invoice, amount=entry.amount,
                          method=Payment.Method.BANK_TRANSFER, now=now,
                          received_on=entry.booked_on, staff_user=staff_user,
                          bank_reference=entry.bank_reference, statement_entry=recorded,
                          list_changed=False)  # once per customer, by statement_import
    recorded.invoice, recorded.customer_id = invoice, invoice.customer_id
    values = {"amount": entry.amount, "due": paid.due_before, "currency": CURRENCY,
              "left": paid.due_before - paid.applied, "extra": paid.credited}
    if paid.credited and not paid.applied:
        recorded.outcome = Outcome.OVERPAID
        recorded.reason = gettext("Nothing was due on this invoice any more: "
                                  "%(extra)s %(currency)s made account credit.") % values
    elif paid.credited:
        recorded.outcome = Outcome.OVERPAID
        recorded.reason = gettext("%(amount)s %(currency)s received for %(due)s due: "
                                  "%(extra)s %(currency)s made account credit.") % values
    elif paid.applied < paid.due_before:
        recorded.outcome = Outcome.PARTIAL
        recorded.reason = gettext("%(amount)s %(currency)s received for %(due)s due: "
                                  "%(left)s %(currency)s still due.") % values
    else:
        recorded.outcome = how
        recorded.reason = ""
    recorded.save(update_fields=["invoice", "customer", "outcome", "reason"])
    return recorded


def _entry_insert_once(recorded: StatementEntry) -> bool:
    """Insert the entry unless its bank reference is recorded already, in one statement
    (`INSERT ... ON CONFLICT DO NOTHING RETURNING`, PostgreSQL and SQLite): no existence
    check, no savepoint. An import at once holding the same reference makes it wait
    for that transaction's end, then do nothing. Sets the entry's pk when inserted."""
    meta = StatementEntry._meta
    quote = connection.ops.quote_name
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    values = [field.get_db_prep_save(getattr(recorded, field.attname), connection)
              for field in fields]
    sql = (f"INSERT INTO {quote(meta.db_table)} "
           f"({', '.join(quote(field.column) for field in fields)}) "
           f"VALUES ({', '.join(['%s'] * len(fields))}) "
           f"ON CONFLICT ({quote(meta.get_field('bank_reference').column)}) DO NOTHING "
           f"RETURNING {quote(meta.pk.column)}")
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:
        return False
    recorded.pk = row[0]
    recorded._state.adding = False
    return True


def _match(entry: Entry) -> tuple[Invoice | None, str, str]:
    """(invoice, how it matched, why not): by our reference first, then by amount + NIC
    handle."""
    found = (references.find_in_text(entry.structured_reference)
             or references.find_in_text(entry.remittance))
    if found:
        number, nic_handle = found
        invoice = (Invoice.objects.filter(number=number, status=Invoice.Status.ISSUED)
                   .only("pk", "customer_id", "customer_nic_handle").first())
        if invoice is None:
            return None, "", gettext("The reference names invoice %(number)s, which does not "
                                     "exist.") % {"number": number}
        if invoice.customer_nic_handle.lower() != nic_handle.lower():
            return None, "", gettext("The reference names invoice %(number)s with another "
                                     "customer's NIC handle (%(nic)s).") % {
                                         "number": number, "nic": nic_handle}
        return invoice, Outcome.MATCHED, ""
    nic_handle = _nic_handle_in(entry.remittance)
    if not nic_handle:
        return None, "", gettext("No payment reference and no NIC handle in the remittance "
                                 "text.")
    candidates = (Invoice.objects.filter(customer__nic_handle__iexact=nic_handle,
                                         status=Invoice.Status.ISSUED, paid_at__isnull=True)
                  .order_by("issued_at", "pk").only("pk"))
    for candidate in candidates[:50]:
        # The same amount due as the transfer, oldest first.
        _invoice, due = invoice_due_locked(candidate.pk)
        if due == entry.amount:
            return candidate, Outcome.MATCHED_BY_AMOUNT, ""
    return None, "", gettext("No payment reference; no unpaid invoice of %(nic)s has exactly "
                             "%(amount)s %(currency)s due.") % {
                                 "nic": nic_handle, "amount": entry.amount, "currency": CURRENCY}


def _nic_handle_in(text: str) -> str:
    suffix = re.escape(settings.NIC_SUFFIX)
    match = re.search(rf"(?<![0-9A-Za-z])([A-Za-z]{{2}}\d{{6}}{suffix})(?![0-9A-Za-z])", text,
                      re.IGNORECASE)
    return match[1] if match else ""
