"""The version of a customer's invoice list (billing.selectors.invoice_list's cache key)."""

import uuid

from accounts.models import User


def invoice_list_changed(*, customer_id: int) -> None:
    """Give the customer's invoice list a new version, in the caller's transaction: cached
    pages of the old version are never read again (billing.selectors.invoice_list). Call
    it whenever an issued invoice or credit note appears or changes what the list shows
    (its payment)."""
    User.objects.filter(pk=customer_id).update(invoice_list_version=uuid.uuid4())


def invoice_lists_changed(*, customer_ids) -> None:
    """invoice_list_changed for many customers in one UPDATE (a statement import paying
    many invoices bumps each customer once, at its end)."""
    customer_ids = list(customer_ids)
    if customer_ids:
        User.objects.filter(pk__in=customer_ids).update(invoice_list_version=uuid.uuid4())
