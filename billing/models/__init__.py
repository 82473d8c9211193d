"""Catalogue, services, contacts, orders, invoices, payments and credit notes, one module each.

Amounts follow billing.money."""

from billing.models.catalogue import (
    CONTACT_ROLE_FIELDS,
    ContactRole,
    Period,
    Product,
    Service,
    period_end,
)
from billing.models.contacts import ContactChangeRequest
from billing.models.credit_notes import (
    CREDIT_NOTE_PREFIX,
    CreditNote,
    CreditNoteLine,
    CreditNoteSequence,
)
from billing.models.invoices import (
    NUMBER_PREFIX,
    Invoice,
    InvoiceIssued,
    InvoiceLine,
    InvoiceSequence,
    overdue_since,
)
from billing.models.orders import Order, OrderLine
from billing.models.payments import (
    BankStatement,
    CreditMovement,
    Payment,
    StatementEntry,
    credit_balance,
    decimal_sum,
)

__all__ = [
    "CONTACT_ROLE_FIELDS",
    "CREDIT_NOTE_PREFIX",
    "NUMBER_PREFIX",
    "BankStatement",
    "ContactChangeRequest",
    "ContactRole",
    "CreditMovement",
    "CreditNote",
    "CreditNoteLine",
    "CreditNoteSequence",
    "Invoice",
    "InvoiceIssued",
    "InvoiceLine",
    "InvoiceSequence",
    "Order",
    "OrderLine",
    "Payment",
    "Period",
    "Product",
    "Service",
    "StatementEntry",
    "credit_balance",
    "decimal_sum",
    "overdue_since",
    "period_end",
]
