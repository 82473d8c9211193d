"""The version of a customer's invoice list (billing.selectors.invoice_list's cache key)."""

import uuid

from accounts.models import User


def invoice_list_changed(*, customer_id: int) -> None:
    """Give the customer's invoice list a new version, in the caller's transaction: cached
    pages of the old version are never read again (billing.selectors.invoice_list). Call
    it whenever an issued invoice or credit note appears or changes what the list shows
    (its payment)."""
    User.objects.filter(pk=customer_id).update(invoice_list_version=uuid.uuid4())
