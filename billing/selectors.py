"""Reads that billing pages show. Each returns a page with its rows loaded: templates
do no query."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import BooleanField, Case, Count, F, Q, QuerySet, When, Window
from django.utils import timezone
from django.utils.translation import get_language

from accounts.models import User
from billing.models import (
    ContactChangeRequest,
    ContactRole,
    CreditMovement,
    CreditNote,
    Invoice,
    Order,
    OrderLine,
    Payment,
    Period,
    Product,
    Service,
    credit_balance,
    decimal_sum,
    overdue_since,
)
from portal.cache import cached
from portal.db import ReusableQuery, page_of

PAGE_SIZE = 25
T = TypeVar("T")


@dataclass(frozen=True)
class ServiceRow:
    """A service as its list shows it: plain values in the active language."""
    pk: int
    name: str
    customer_id: int
    admin_contact_id: int
    my_roles: list[str]  # the labels of the customer's roles on it
    product_name: str
    period_label: str
    status_label: str
    expires_at: datetime | None
    auto_renew: bool


_SERVICES = ReusableQuery(lambda user_id: (
    Service.objects.filter(Q(customer_id=user_id) | Q(admin_contact_id=user_id)
                           | Q(tech_contact_id=user_id) | Q(billing_contact_id=user_id))
    .order_by("-created_at", "-pk")
    .values_list("pk", "name", "customer_id", "admin_contact_id", "tech_contact_id",
                 "billing_contact_id", "period", "status", "expires_at", "auto_renew",
                 "product__name", "product__name_es", "product__name_fr")))


def service_list(*, user: User, page: str | int | None) -> Page:
    """The services the customer owns or is a contact of (ServiceRow), newest first,
    each with the customer's roles on it. One query for a page of them (two when there
    is more than a page)."""
    page = page_of(_SERVICES.bind(user_id=user.pk), page, PAGE_SIZE)
    language = get_language()
    roles = {column: str(role.label) for role, column in (
        (ContactRole.ADMIN, 3), (ContactRole.TECH, 4), (ContactRole.BILLING, 5))}
    periods = {value: str(label) for value, label in Period.choices}
    statuses = {value: str(label) for value, label in Service.Status.choices}
    page.object_list = [
        ServiceRow(pk=row[0], name=row[1], customer_id=row[2], admin_contact_id=row[3],
                   my_roles=[label for column, label in roles.items() if row[column] == user.pk],
                   product_name=Product.name_from(language, *row[10:13]),
                   period_label=periods.get(row[6], row[6]),
                   status_label=statuses.get(row[7], row[7]),
                   expires_at=row[8], auto_renew=row[9])
        for row in page.object_list]
    return page


@dataclass(frozen=True)
class OrderRow:
    """An order as its list shows it: plain values, no model instances to build."""
    pk: int
    number: int
    created_at: datetime
    invoice_number: str
    invoice_total: Decimal
    invoice_currency: str
    invoice_paid_at: datetime | None
    items: list[tuple[str, str]]  # (product name in the active language, service name)


_ORDERS = ReusableQuery(lambda user_id: (
    Order.objects.filter(customer_id=user_id).order_by("-created_at", "-pk")
    .values_list("pk", "number", "created_at", "invoice__number", "invoice__total",
                 "invoice__currency", "invoice__paid_at")))
_ORDER_LINES = ReusableQuery(lambda order_ids: (
    OrderLine.objects.filter(order_id__in=order_ids).order_by("pk")
    .values_list("order_id", "product__name", "product__name_es", "product__name_fr",
                 "service__name")))


def order_list(*, user: User, page: str | int | None) -> Page:
    """The customer's orders (OrderRow) with their invoices, products and services,
    newest first. Two queries for a page of them (three when there is more than a
    page): the orders with their invoices, and their lines."""
    page = page_of(_ORDERS.bind(user_id=user.pk), page, PAGE_SIZE)
    items = {row[0]: [] for row in page.object_list}
    language = get_language()
    lines = _ORDER_LINES.rows(order_ids=list(items)) if items else []
    for order_id, *names, service_name in lines:
        items[order_id].append((Product.name_from(language, *names), service_name))
    page.object_list = [OrderRow(*row, items=items[row[0]]) for row in page.object_list]
    return page


@dataclass(frozen=True)
class OrderLineRow:
    service_name: str
    unit_price: Decimal  # excl. tax, in the invoice's currency
    product_name: str  # in the active language
    period_label: str
    service_status_label: str


@dataclass(frozen=True)
class OrderDetail:
    """An order as its page shows it, with its invoice and lines."""
    pk: int
    number: int
    created_at: datetime
    invoice_number: str | None
    invoice_total: Decimal | None
    invoice_currency: str | None
    invoice_paid_at: datetime | None
    lines: list[OrderLineRow]


_ORDER = ReusableQuery(lambda user_id, order_id: (
    Order.objects.filter(pk=order_id, customer_id=user_id)
    .values_list("pk", "number", "created_at", "invoice__number", "invoice__total",
                 "invoice__currency", "invoice__paid_at")))
_ORDER_DETAIL_LINES = ReusableQuery(lambda order_id: (
    OrderLine.objects.filter(order_id=order_id).order_by("pk")
    .values_list("service__name", "unit_price", "product__name", "product__name_es",
                 "product__name_fr", "period", "service__status")))


def order_detail(*, user: User, order_id: int) -> OrderDetail | None:
    """One of the customer's orders (None when it is not theirs, or there is no such
    order), in two queries: the order with its invoice, and its lines."""
    found = _ORDER.rows(user_id=user.pk, order_id=order_id)
    if not found:
        return None
    language = get_language()
    periods = {value: str(label) for value, label in Period.choices}
    statuses = {value: str(label) for value, label in Service.Status.choices}
    lines = [OrderLineRow(service_name, unit_price, Product.name_from(language, *names),
                          periods.get(period, period), statuses.get(status, status))
             for service_name, unit_price, *names, period, status
             in _ORDER_DETAIL_LINES.rows(order_id=order_id)]
    return OrderDetail(*found[0], lines=lines)


@dataclass(frozen=True)
class InvoiceList:
    page: Page  # rows are dicts: number, issued_at, due_at, kind, total, currency, paid_at,
    # overdue, amount_due
    years: list[tuple[int, int]]  # (year, number of invoices), newest first
    year: int | None  # the year shown, or None for all of them


class CountedPaginator(Paginator):
    """A paginator that numbers the pages of `count` rows without holding them: the
    caller reads a page's rows (or finds them in the cache)."""

    def __init__(self, per_page: int, *, count: int):
        super().__init__((), per_page)
        self.count = count  # shadows the cached property: no COUNT query


def invoice_list(*, user: User, year: int | None, page: str | int | None,
                 now: datetime | None = None) -> InvoiceList:
    """The customer's issued invoices, overdue ones first, then newest first, by pages of
    25, of one `year` (a year with no invoice shows them all). An invoice is overdue
    from the day after its due date (billing.models.overdue_since), so the order of the
    rows changes once a day: today's date is part of the cache key.

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
    today = overdue_since(now or timezone.now())
    rows = _cached(user, "page", year or "all", number, today.date().isoformat(),
                   produce=lambda: _invoice_rows(user=user, year=year, number=number,
                                                 today=today))
    return InvoiceList(page=Page(rows, number, paginator), years=years, year=year)


def _issued(user: User) -> QuerySet:
    return Invoice.objects.filter(customer=user, status=Invoice.Status.ISSUED)


def _invoice_rows(*, user: User, year: int | None, number: int, today: datetime) -> list[dict]:
    invoices = _issued(user).filter(year=year) if year else _issued(user)
    first = (number - 1) * PAGE_SIZE
    overdue = Q(paid_at__isnull=True, due_at__lt=today)
    rows = list(invoices.annotate(overdue=Case(When(overdue, then=True), default=False,
                                               output_field=BooleanField()))
                .order_by("-overdue", "-year", "-sequence")
                .values("pk", "number", "issued_at", "due_at", "kind", "total", "currency",
                        "paid_at", "overdue")[first:first + PAGE_SIZE])
    received = _received_by_invoice([row["pk"] for row in rows if not row["paid_at"]])
    for row in rows:
        row["amount_due"] = (Decimal("0.00") if row["paid_at"]
                             else max(row["total"] - received[row["pk"]], Decimal("0.00")))
    return rows


def _received_by_invoice(invoice_ids: list[int],
                         among: QuerySet | None = None) -> dict[int, Decimal]:
    """Payments and credit notes per invoice, added up exactly (in Python: SQLite sums
    decimals as floats); one query, none when there is no invoice to look at. `among`,
    a query of these invoices, replaces a long list of ids in the SQL."""
    received = {pk: Decimal("0.00") for pk in invoice_ids}
    if invoice_ids:
        which = {"invoice__in": among.values("pk")} if among is not None else {
            "invoice_id__in": invoice_ids}
        payments = Payment.objects.filter(**which).order_by().values_list("invoice_id", "amount")
        credited = CreditNote.objects.filter(**which).order_by().values_list("invoice_id",
                                                                               "total")
        for invoice_id, amount in payments.union(credited, all=True):
            received[invoice_id] = received.get(invoice_id, Decimal("0.00")) + amount
    return received


def _cached(user: User, *parts: object, produce: Callable[[], T]) -> T:
    return cached(":".join(map(str, ("billing:invoice-list", user.pk,
                                     user.invoice_list_version.hex, *parts))),
                  produce, timeout=settings.INVOICE_LIST_CACHE_SECONDS)


@dataclass(frozen=True)
class OwnedService:
    """A service of the customer's with its three contacts' NIC handles."""
    pk: int
    name: str
    product_name: str
    admin_contact_id: int
    admin_nic: str
    tech_nic: str
    billing_nic: str


@dataclass(frozen=True)
class HeldService:
    """Another customer's service where the customer holds a role (`my_roles`, labels)."""
    pk: int
    name: str
    product_name: str
    customer_nic: str
    admin_contact_id: int
    my_roles: list[str]


@dataclass(frozen=True)
class ChangeRow:
    """A contact-change request as the contacts page shows it."""
    pk: int
    service_name: str
    role_labels: list[str]
    holder_nic: str
    target_nic_handle: str  # as typed: nothing about that account
    requester_nic: str
    state: str
    state_label: str
    reason: str
    reason_label: str
    created_at: datetime
    expires_at: datetime
    holder_accepted_at: datetime | None
    target_accepted_at: datetime | None
    is_pending: bool
    i_accepted: bool  # for a request received: this customer's own answer is given


@dataclass(frozen=True)
class ContactsOverview:
    owned: Page  # the customer's services (OwnedService)
    held: list[HeldService]  # other customers' services where they hold a role
    sent: list[ChangeRow]  # asked by them, newest first
    received: list[ChangeRow]  # awaiting (or answered by) them as a party


CONTACTS_RECENT = 50
_SERVICE_COLUMNS = ("pk", "name", "product__name", "product__name_es", "product__name_fr",
                    "admin_contact_id")
_OWNED = ReusableQuery(lambda user_id: (
    Service.objects.filter(customer_id=user_id).order_by("-created_at", "-pk")
    .values_list(*_SERVICE_COLUMNS, "admin_contact__nic_handle", "tech_contact__nic_handle",
                 "billing_contact__nic_handle")))
_HELD = ReusableQuery(lambda user_id: (
    Service.objects.exclude(customer_id=user_id)
    .filter(Q(admin_contact_id=user_id) | Q(tech_contact_id=user_id)
            | Q(billing_contact_id=user_id))
    .order_by("name", "pk")
    .values_list(*_SERVICE_COLUMNS, "customer__nic_handle", "tech_contact_id",
                 "billing_contact_id")))
_CHANGE_COLUMNS = ("pk", "service__name", "move_admin", "move_tech", "move_billing",
                   "holder__nic_handle", "target_nic_handle", "requester__nic_handle", "state",
                   "reason", "created_at", "expires_at", "holder_accepted_at",
                   "target_accepted_at", "holder_id")
_SENT = ReusableQuery(lambda user_id: (
    ContactChangeRequest.objects.filter(requester_id=user_id).order_by("-created_at", "-pk")
    .values_list(*_CHANGE_COLUMNS)))
_RECEIVED = ReusableQuery(lambda user_id: (
    ContactChangeRequest.objects.filter(Q(holder_id=user_id) | Q(target_id=user_id))
    .order_by("-created_at", "-pk").values_list(*_CHANGE_COLUMNS)))


def contacts_overview(*, user: User, page: str | int | None) -> ContactsOverview:
    """What /account/contacts/ shows, as plain rows: a page of the customer's services
    with their contacts' NIC handles, the services where they hold a role for someone
    else (marked with it), and the latest contact-change requests they sent and received.
    Four queries whatever the numbers (five with more than a page of services). A request
    sent shows the new contact only as typed: nothing about that account."""
    language = get_language()
    roles = {role: str(role.label) for role in ContactRole}
    states = {value: str(label) for value, label in ContactChangeRequest.State.choices}
    reasons = {value: str(label) for value, label in ContactChangeRequest.Reason.choices}

    def change(row, *, received: bool) -> ChangeRow:
        (pk, service_name, move_admin, move_tech, move_billing, holder_nic, target_nic,
         requester_nic, state, reason, created_at, expires_at, holder_accepted_at,
         target_accepted_at, holder_id) = row
        moved = (ContactRole.ADMIN, move_admin), (ContactRole.TECH, move_tech), (
            ContactRole.BILLING, move_billing)
        mine = holder_accepted_at if holder_id == user.pk else target_accepted_at
        return ChangeRow(
            pk=pk, service_name=service_name,
            role_labels=[roles[role] for role, moves in moved if moves],
            holder_nic=holder_nic, target_nic_handle=target_nic, requester_nic=requester_nic,
            state=state, state_label=states.get(state, state), reason=reason,
            reason_label=reasons.get(reason, reason), created_at=created_at,
            expires_at=expires_at, holder_accepted_at=holder_accepted_at,
            target_accepted_at=target_accepted_at,
            is_pending=state in ContactChangeRequest.OPEN_STATES,
            i_accepted=received and mine is not None)

    owned = page_of(_OWNED.bind(user_id=user.pk), page, PAGE_SIZE)
    owned.object_list = [
        OwnedService(pk=pk, name=name, product_name=Product.name_from(language, en, es, fr),
                     admin_contact_id=admin_id, admin_nic=admin, tech_nic=tech,
                     billing_nic=billing)
        for pk, name, en, es, fr, admin_id, admin, tech, billing in owned.object_list]
    held = [
        HeldService(pk=pk, name=name, product_name=Product.name_from(language, en, es, fr),
                    customer_nic=customer_nic, admin_contact_id=admin_id,
                    my_roles=[roles[role] for role, holder in (
                        (ContactRole.ADMIN, admin_id), (ContactRole.TECH, tech_id),
                        (ContactRole.BILLING, billing_id)) if holder == user.pk])
        for pk, name, en, es, fr, admin_id, customer_nic, tech_id, billing_id
        in _HELD.rows(limit=CONTACTS_RECENT, user_id=user.pk)]
    return ContactsOverview(
        owned=owned, held=held,
        sent=[change(row, received=False)
              for row in _SENT.rows(limit=CONTACTS_RECENT, user_id=user.pk)],
        received=[change(row, received=True)
                  for row in _RECEIVED.rows(limit=CONTACTS_RECENT, user_id=user.pk)])


_CATALOGUE = ReusableQuery(lambda: (
    Product.objects.filter(is_active=True)
    .values_list("pk", "code", "name", "name_es", "name_fr", "price_monthly", "price_yearly")))


def catalogue_rows() -> list[tuple]:
    """What the order form shows of each product on sale (its choices' labels), as plain
    rows: a change of any of them draws the form anew (templates/billing/order_new.html)."""
    return _CATALOGUE.rows()


DASHBOARD_ROWS = 5
# A service expiring within this many days is flagged on the dashboard.
EXPIRING_SOON_DAYS = 30


@dataclass(frozen=True)
class DashboardService:
    """A service as the dashboard shows it: plain values in the active language."""
    pk: int
    name: str
    product_name: str
    status: str
    status_label: str
    expires_at: datetime | None
    auto_renew: bool
    admin_contact_id: int
    expiring_soon: bool


@dataclass(frozen=True)
class PendingOrder:
    """An order whose invoice is not paid yet, as the dashboard lists it."""
    pk: int
    number: int
    invoice_total: Decimal
    invoice_currency: str
    items: list[tuple[str, str]]  # (product name in the active language, service name)


@dataclass(frozen=True)
class BillingSummary:
    """What the dashboard shows of services and orders: a few rows of each and their
    counts (what is left to pay comes from dashboard_unpaid)."""
    services: list[DashboardService]  # expiring soonest first
    services_count: int
    pending_orders: list[PendingOrder]  # newest first
    pending_orders_count: int


def amount_due(*, user: User) -> Decimal:
    """What the customer still owes on their issued, unpaid invoices (totals less
    payments and credit notes). One query on PostgreSQL, two elsewhere, whatever the
    number of invoices (_unpaid)."""
    return _unpaid(user, rows=0).due


@dataclass(frozen=True)
class Unpaid:
    rows: list[Invoice]  # the oldest due first, each with `left_to_pay`
    count: int  # all the invoices with something left to pay
    due: Decimal  # what they have left to pay in all


ZERO = Decimal("0.00")


def _unpaid(user: User, *, rows: int) -> Unpaid:
    """The customer's issued invoices with something left to pay (total − payments −
    credit notes > 0): the oldest `rows` of them, how many there are and what they have
    due in all. On PostgreSQL the database works it out in exact numeric and sends only
    those rows (one query). SQLite adds decimals as floats (billing.models.decimal_sum),
    so there each unpaid invoice's total and what it received are read and added up
    here, exactly (two queries, three with rows)."""
    if connections[Invoice.objects.db].vendor == "postgresql":
        # LIMIT 1 at least: the first row carries the count and the sum.
        oldest = list(Invoice.objects.raw(UNPAID_SQL.format(**_tables()), [
            user.pk, Invoice.Status.ISSUED, max(rows, 1)]))
        if not oldest:
            return Unpaid(rows=[], count=0, due=ZERO)
        return Unpaid(rows=oldest[:rows], count=oldest[0].owing_count,
                      due=oldest[0].owing_due)
    left_to_pay = _left_to_pay(user)
    return Unpaid(rows=_unpaid_rows(left_to_pay, rows), count=len(left_to_pay),
                  due=sum(left_to_pay.values(), ZERO))


# What each unpaid invoice received (payments and credit notes, grouped once, only for
# the customer's unpaid invoices), what it has left to pay, then those with something
# left: the oldest first, each row carrying their count and their sum. One scan of the
# customer's unpaid invoices, no subquery run per invoice (3.5 ms for 1,000 invoices,
# against 11 ms for per-invoice subqueries and 7 ms to add them up in Python).
UNPAID_SQL = """
WITH unpaid AS (
    SELECT id, number, issued_at, due_at, total, currency FROM {invoice}
    WHERE customer_id = %s AND status = %s AND paid_at IS NULL),
received AS (
    SELECT invoice_id, SUM(amount) AS amount FROM (
        SELECT invoice_id, amount FROM {payment} WHERE invoice_id IN (SELECT id FROM unpaid)
        UNION ALL
        SELECT invoice_id, total FROM {credit_note} WHERE invoice_id IN (SELECT id FROM unpaid)
    ) AS taken GROUP BY invoice_id),
owing AS (
    SELECT unpaid.*, unpaid.total - COALESCE(received.amount, 0) AS left_to_pay
    FROM unpaid LEFT JOIN received ON received.invoice_id = unpaid.id)
SELECT *, COUNT(*) OVER () AS owing_count, SUM(left_to_pay) OVER () AS owing_due
FROM owing WHERE left_to_pay > 0 ORDER BY due_at, id LIMIT %s"""


def _tables() -> dict[str, str]:
    quote = connections[Invoice.objects.db].ops.quote_name
    return {"invoice": quote(Invoice._meta.db_table), "payment": quote(Payment._meta.db_table),
            "credit_note": quote(CreditNote._meta.db_table)}


def _unpaid_query(user: User) -> QuerySet:
    return _issued(user).filter(paid_at__isnull=True)


def _left_to_pay(user: User) -> dict[int, Decimal]:
    """What is left to pay on each invoice that still has something due, by id, the
    oldest due first, added up here (exact on any database; SQLite's own sums are
    floating point)."""
    query = _unpaid_query(user)
    unpaid = list(query.order_by("due_at", "pk").values_list("pk", "total"))
    received = _received_by_invoice([pk for pk, _total in unpaid], among=query)
    return {pk: total - received[pk] for pk, total in unpaid if total > received[pk]}


_DASHBOARD_SERVICES = ReusableQuery(lambda user_id: (
    Service.objects.filter(customer_id=user_id,
                           status__in=[Service.Status.ACTIVE, Service.Status.PENDING])
    .order_by(F("expires_at").asc(nulls_last=True), "-created_at", "-pk")
    .annotate(count=Window(Count("pk")))
    .values_list("pk", "name", "status", "expires_at", "auto_renew", "admin_contact_id",
                 "product__name", "product__name_es", "product__name_fr", "count")))
_PENDING_ORDERS = ReusableQuery(lambda user_id: (
    Order.objects.filter(customer_id=user_id, invoice__paid_at__isnull=True,
                         invoice__status=Invoice.Status.ISSUED)
    .order_by("-created_at", "-pk").annotate(count=Window(Count("pk")))
    .values_list("pk", "number", "invoice__total", "invoice__currency", "count")))


def billing_summary(*, user: User, now: datetime) -> BillingSummary:
    """The dashboard's services and orders: the customer's own services (active or
    awaiting payment, expiring soonest first, those without an end date last) and the
    orders not paid yet, with their lines. Three queries whatever the number of rows
    behind them: each list is cut to DASHBOARD_ROWS and counted in the same query."""
    language = get_language()
    soon = now + timedelta(days=EXPIRING_SOON_DAYS)
    statuses = {value: str(label) for value, label in Service.Status.choices}
    service_rows = _DASHBOARD_SERVICES.rows(limit=DASHBOARD_ROWS, user_id=user.pk)
    services = [
        DashboardService(pk=pk, name=name, product_name=Product.name_from(language, *names),
                         status=status, status_label=statuses.get(status, status),
                         expires_at=expires_at, auto_renew=auto_renew,
                         admin_contact_id=admin_contact_id,
                         expiring_soon=bool(expires_at and expires_at <= soon))
        for pk, name, status, expires_at, auto_renew, admin_contact_id, *names, _count
        in service_rows]
    order_rows = _PENDING_ORDERS.rows(limit=DASHBOARD_ROWS, user_id=user.pk)
    items = {row[0]: [] for row in order_rows}
    for order_id, *names, service_name in (
            _ORDER_LINES.rows(order_ids=list(items)) if items else []):
        items[order_id].append((Product.name_from(language, *names), service_name))
    return BillingSummary(
        services=services, services_count=service_rows[0][-1] if service_rows else 0,
        pending_orders=[PendingOrder(pk, number, total, currency, items[pk])
                        for pk, number, total, currency, _count in order_rows],
        pending_orders_count=order_rows[0][-1] if order_rows else 0,
    )


def dashboard_unpaid(*, user: User) -> Unpaid:
    """The dashboard's unpaid invoices: the oldest DASHBOARD_ROWS with what each has left
    to pay, how many there are and the whole amount due."""
    return _unpaid(user, rows=DASHBOARD_ROWS)


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
    unpaid: list[Invoice]  # the oldest BALANCE_RECENT unpaid invoices (`left_to_pay` on each)
    unpaid_count: int  # all the invoices with something due
    payments: list[Payment]  # the latest payments, with their invoices
    movements: list[CreditMovement]  # the latest credit movements


def account_balance(*, user: User) -> AccountBalance:
    """What /billing/balance/ shows. A bounded number of queries and rows whatever the
    number of invoices: the unpaid ones are listed oldest first up to BALANCE_RECENT (the
    invoice list has them all). Balances:
    invoiced − credited − received = due − credit (billing.models.payments)."""
    unpaid = _unpaid(user, rows=BALANCE_RECENT)
    paid_into = Payment.objects.filter(invoice__customer=user)
    overpaid = CreditMovement.objects.filter(customer=user,
                                             kind=CreditMovement.Kind.OVERPAYMENT)
    return AccountBalance(
        invoiced=decimal_sum(_issued(user), "total"),
        credited=decimal_sum(CreditNote.objects.filter(customer=user), "total"),
        received=(decimal_sum(paid_into.exclude(method=Payment.Method.ACCOUNT_CREDIT), "amount")
                  + decimal_sum(overpaid, "amount")),
        due=unpaid.due, credit=credit_balance(user.pk),
        unpaid=unpaid.rows, unpaid_count=unpaid.count,
        payments=list(paid_into.select_related("invoice").order_by("-recorded_at", "-pk")
                      [:BALANCE_RECENT]),
        movements=list(CreditMovement.objects.filter(customer=user)
                       .select_related("invoice", "credit_note")
                       .order_by("-created_at", "-pk")[:BALANCE_RECENT]),
    )


def account_balance_cached(*, user: User) -> AccountBalance:
    """account_balance read through the cache, under the version of the customer's
    invoices (as invoice_list): everything it shows changes with that version (an
    invoice issued, a payment or an over-payment recorded, account credit used, a credit
    note issued: billing.services.invoice_list), and nothing in it depends on the day.
    Seen again, it costs no query."""
    return _cached(user, "balance", produce=lambda: account_balance(user=user))


# What an invoice number looks like (billing.models.NUMBER_PREFIX, year, sequence); only
# those go into a cache key, anything else is looked up directly (and is not found).
PLAIN_NUMBER = re.compile(r"[A-Za-z0-9-]{1,20}")


def customer_invoice(*, user: User, number: str) -> Invoice | None:
    """The customer's own issued invoice `number`, with its lines, payments and credit
    notes, or None (someone else's, a draft, or no such number). Read through the cache
    under the version of the customer's invoices, which changes whenever a payment, a
    credit note or a new invoice changes what its page shows: seen again, it costs no
    query. A number not found is looked up again each time (never cached), so an invoice
    issued afterwards shows at once. What depends on the day (overdue) is for the caller
    to work out from it."""
    def produce():
        return (Invoice.objects.prefetch_related("lines", "payments", "credit_notes")
                .filter(customer=user, number=number, status=Invoice.Status.ISSUED).first())
    if not PLAIN_NUMBER.fullmatch(number):
        return produce()
    return _cached(user, "invoice", number, produce=produce)


def _unpaid_rows(left_to_pay: dict[int, Decimal], count: int) -> list[Invoice]:
    """The first `count` of these invoices (the oldest due), each with `left_to_pay`."""
    oldest = list(left_to_pay)[:count]
    if not oldest:
        return []
    rows = list(Invoice.objects.filter(pk__in=oldest)
                .only("pk", "number", "issued_at", "due_at", "total", "currency")
                .order_by("due_at", "pk"))
    for invoice in rows:
        invoice.left_to_pay = left_to_pay[invoice.pk]
    return rows
