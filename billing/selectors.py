"""Reads that billing pages show. Each returns a page with its rows loaded: templates
do no query."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Count, QuerySet

from accounts.models import User
from billing.models import Invoice, Order, Service
from portal.cache import cached

PAGE_SIZE = 25
T = TypeVar("T")


def service_list(*, user: User, page: str | int | None) -> Page:
    """The customer's services with their products, newest first."""
    services = (Service.objects.filter(customer=user).select_related("product")
                .order_by("-created_at", "-pk"))
    return _loaded(Paginator(services, PAGE_SIZE).get_page(page))


def order_list(*, user: User, page: str | int | None) -> Page:
    """The customer's orders with their invoices, lines, products and services, newest
    first."""
    orders = (Order.objects.filter(customer=user).select_related("invoice")
              .prefetch_related("lines__product", "lines__service")
              .order_by("-created_at", "-pk"))
    return _loaded(Paginator(orders, PAGE_SIZE).get_page(page))


def _loaded(page: Page) -> Page:
    page.object_list = list(page.object_list)
    return page


@dataclass(frozen=True)
class InvoiceList:
    page: Page  # rows are dicts: number, issued_at, kind, total, currency, paid_at
    years: list[tuple[int, int]]  # (year, number of invoices), newest first
    year: int | None  # the year shown, or None for all of them


class CountedPaginator(Paginator):
    """A paginator that numbers the pages of `count` rows without holding them: the
    caller reads a page's rows (or finds them in the cache)."""

    def __init__(self, per_page: int, *, count: int):
        super().__init__((), per_page)
        self.count = count  # shadows the cached property: no COUNT query


def invoice_list(*, user: User, year: int | None, page: str | int | None) -> InvoiceList:
    """The customer's issued invoices, newest first, by pages of 25, of one `year` (a
    year with no invoice shows them all).

    Read through the cache: keys carry the customer's `invoice_list_version`, which
    changes in the transaction that issues an invoice or records its payment
    (billing.services.invoices.invoice_list_changed), and the user row is read with every
    request anyway. So a change shows on the next request, and a page seen again costs no
    query (nor builds one). A page read anew costs two queries whatever the number of
    invoices: the years with their counts (which also give the paginator its count), and
    the page's rows. When the cache server fails, the database answers
    (portal.cache.cached)."""
    years = _cached(user, "years", produce=lambda: list(
        _issued(user).values_list("year").annotate(count=Count("pk")).order_by("-year")))
    counts = dict(years)
    year = year if year in counts else None
    paginator = CountedPaginator(PAGE_SIZE, count=counts[year] if year else sum(counts.values()))
    number = paginator.get_page(page).number
    rows = _cached(user, "page", year or "all", number,
                   produce=lambda: _invoice_rows(user=user, year=year, number=number))
    return InvoiceList(page=Page(rows, number, paginator), years=years, year=year)


def _issued(user: User) -> QuerySet:
    return Invoice.objects.filter(customer=user, status=Invoice.Status.ISSUED)


def _invoice_rows(*, user: User, year: int | None, number: int) -> list[dict]:
    invoices = _issued(user).filter(year=year) if year else _issued(user)
    first = (number - 1) * PAGE_SIZE
    return list(invoices.order_by("-year", "-sequence").values(
        "number", "issued_at", "kind", "total", "currency", "paid_at")[first:first + PAGE_SIZE])


def _cached(user: User, *parts: object, produce: Callable[[], T]) -> T:
    return cached(":".join(map(str, ("billing:invoice-list", user.pk,
                                     user.invoice_list_version.hex, *parts))),
                  produce, timeout=settings.INVOICE_LIST_CACHE_SECONDS)
