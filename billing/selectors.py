"""Reads that billing pages show."""

from django.conf import settings
from django.db.models import Count

from billing.models import Invoice
from portal.cache import cached


def invoice_list_cache_key(customer, *parts):
    """A cache key for part of `customer`'s invoice list as of the version loaded with
    the customer (the user row read at the start of the request)."""
    return ":".join(map(str, ("billing:invoice-list", customer.pk,
                              customer.invoice_list_version.hex, *parts)))


def invoice_years(*, customer):
    """The years of the customer's issued invoices, newest first, with their counts."""
    def query():
        return list(Invoice.objects.filter(customer=customer, status=Invoice.Status.ISSUED)
                    .values_list("year").annotate(count=Count("pk")).order_by("-year"))
    return cached(invoice_list_cache_key(customer, "years"), query,
                  timeout=settings.INVOICE_LIST_CACHE_SECONDS)
