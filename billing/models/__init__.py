"""Catalogue, services, contacts, orders and invoices, one module each.

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
from billing.models.invoices import (
    NUMBER_PREFIX,
    Invoice,
    InvoiceIssued,
    InvoiceLine,
    InvoiceSequence,
    overdue_since,
)
from billing.models.orders import Order, OrderLine

__all__ = [
    "CONTACT_ROLE_FIELDS", "NUMBER_PREFIX", "ContactChangeRequest", "ContactRole", "Invoice", "InvoiceIssued", "InvoiceLine",
    "InvoiceSequence", "Order", "OrderLine", "Period", "Product", "Service", "overdue_since", "period_end",
]
