"""Reads that billing pages show. Each returns a page with its rows loaded: templates
do no query."""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Count, Prefetch, Q, QuerySet

from accounts.models import User
from billing.models import (
    ContactChangeRequest,
    ContactRole,
    CreditMovement,
    CreditNote,
    Invoice,
    Order,
    Payment,
    Service,
    credit_balance,
    decimal_sum,
)
from portal.cache import cached

PAGE_SIZE = 25
T = TypeVar("T")


def service_list(*, user: User, page: str | int | None) -> Page:
    """The services the customer owns or is a contact of, with their products, newest
    first; each marked with the customer's roles on it (`my_roles`, labels)."""
    services = (Service.objects.filter(Q(customer=user) | Q(admin_contact=user)
                                       | Q(tech_contact=user) | Q(billing_contact=user))
                .select_related("product").order_by("-created_at", "-pk"))
    page = _loaded(Paginator(services, PAGE_SIZE).get_page(page))
    for service in page.object_list:
        service.my_roles = [ContactRole(role).label for role in service.roles_of(user.pk)]
    return page


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


@dataclass(frozen=True)
class ContactsOverview:
    owned: Page  # the customer's services, with their three contacts
    held: list[Service]  # other customers' services where they hold a role (`my_roles`)
    sent: list[ContactChangeRequest]  # asked by them, newest first
    received: list[ContactChangeRequest]  # awaiting (or answered by) them as a party


CONTACTS_RECENT = 50


def contacts_overview(*, user: User, page: str | int | None) -> ContactsOverview:
    """What /account/contacts/ shows: a page of the customer's services with their
    contacts, the services where they hold a role for someone else (marked with it), and
    the latest contact-change requests they sent and received. Five queries whatever the
    numbers: the page count, the page, the roles held, the requests sent and received.
    A request sent shows the new contact only as typed: nothing about that account."""
    contacts = ("admin_contact", "tech_contact", "billing_contact")
    owned = (Service.objects.filter(customer=user).select_related("product", *contacts)
             .order_by("-created_at", "-pk"))
    held = list(Service.objects.exclude(customer=user)
                .filter(Q(admin_contact=user) | Q(tech_contact=user) | Q(billing_contact=user))
                .select_related("product", "customer").order_by("name", "pk")[:CONTACTS_RECENT])
    for service in held:
        service.my_roles = [ContactRole(role).label for role in service.roles_of(user.pk)]
    requests = ContactChangeRequest.objects.select_related("service", "holder", "requester")
    sent = list(requests.filter(requester=user).order_by("-created_at", "-pk")[:CONTACTS_RECENT])
    received = list(requests.filter(Q(holder=user) | Q(target=user))
                    .order_by("-created_at", "-pk")[:CONTACTS_RECENT])
    for change in received:
        change.my_party = "holder" if change.holder_id == user.pk else "target"
        change.i_accepted = bool(change.holder_accepted_at if change.my_party == "holder"
                                 else change.target_accepted_at)
    return ContactsOverview(owned=_loaded(Paginator(owned, PAGE_SIZE).get_page(page)), held=held,
                            sent=sent, received=received)


def credit_note_rows(*, user: User) -> list[dict]:
    """The customer's latest credit notes for the invoice list (number, date, invoice
    number, total, currency), read through the same versioned cache as the invoices:
    issuing a credit note gives the list a new version."""
    return _cached(user, "credit-notes", produce=lambda: list(
        CreditNote.objects.filter(customer=user).order_by("-issued_at", "-pk").values(
            "number", "issued_at", "invoice__number", "total", "currency")[:CREDIT_NOTES_SHOWN]))


CREDIT_NOTES_SHOWN = 50
BALANCE_RECENT = 20


@dataclass(frozen=True)
class AccountBalance:
    invoiced: Decimal  # issued invoices' totals
    credited: Decimal  # credit notes' totals
    received: Decimal  # money that came in: transfers and payments recorded by staff
    due: Decimal  # what the unpaid invoices still have due
    credit: Decimal  # account credit, used by the next invoice
    unpaid: list[Invoice]  # invoices with something due, oldest first (`due` on each)
    payments: list[Payment]  # the latest payments, with their invoices
    movements: list[CreditMovement]  # the latest credit movements


def account_balance(*, user: User) -> AccountBalance:
    """What /billing/balance/ shows. Eight queries whatever the numbers; money is added
    up in Python (billing.models.decimal_sum). Balances:
    invoiced − credited − received = due − credit (billing.models.payments)."""
    zero = Decimal("0.00")
    issued = list(_issued(user).only("pk", "number", "issued_at", "total", "currency")
                  .prefetch_related(Prefetch("payments", Payment.objects.only("invoice", "amount")),
                                    Prefetch("credit_notes",
                                             CreditNote.objects.only("invoice", "total")))
                  .order_by("issued_at", "pk"))
    unpaid = []
    for invoice in issued:
        invoice.due = invoice.amount_due
        if invoice.due:
            unpaid.append(invoice)
    paid_into = Payment.objects.filter(invoice__customer=user)
    overpaid = CreditMovement.objects.filter(customer=user,
                                             kind=CreditMovement.Kind.OVERPAYMENT)
    return AccountBalance(
        invoiced=sum((invoice.total for invoice in issued), zero),
        credited=decimal_sum(CreditNote.objects.filter(customer=user), "total"),
        received=(decimal_sum(paid_into.exclude(method=Payment.Method.ACCOUNT_CREDIT), "amount")
                  + decimal_sum(overpaid, "amount")),
        due=sum((invoice.due for invoice in unpaid), zero), credit=credit_balance(user.pk),
        unpaid=unpaid,
        payments=list(paid_into.select_related("invoice").order_by("-recorded_at", "-pk")
                      [:BALANCE_RECENT]),
        movements=list(CreditMovement.objects.filter(customer=user)
                       .select_related("invoice", "credit_note")
                       .order_by("-created_at", "-pk")[:BALANCE_RECENT]),
    )
