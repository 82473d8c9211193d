"""portal.db.ReusableQuery: a read compiled once, run again with other values, gives the
rows the ORM gives, converted alike, on SQLite and PostgreSQL."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Q
from django.utils import timezone

from accounts.models import SecurityEvent
from billing.models import Invoice
from conftest import make_customer
from portal.db import ReusableQuery, page_of

pytestmark = pytest.mark.django_db


def invoices_of(customer_id):
    return (Invoice.objects.filter(Q(customer_id=customer_id) | Q(customer_id=customer_id))
            .order_by("-sequence").values_list("number", "total", "issued_at", "paid_at"))


INVOICES = ReusableQuery(invoices_of)


def issue(customer, count, start=1):
    now = timezone.now()
    return Invoice.objects.bulk_create([
        Invoice(customer=customer, kind=Invoice.Kind.RENEWAL, status=Invoice.Status.ISSUED,
                created_at=now, issued_at=now - timedelta(days=n), due_at=now, year=2026,
                sequence=n, number=f"RQ-{customer.pk}-{n}", customer_nic_handle=customer.nic_handle,
                subtotal=Decimal("10.00"), tax_total=Decimal("2.10"), total=Decimal("12.10"))
        for n in range(start, start + count)])


def both_ways(customer_id, limit=None):
    expected = list(invoices_of(customer_id)[:limit] if limit else invoices_of(customer_id))
    return INVOICES.rows(limit=limit, customer_id=customer_id), expected


def test_each_customer_gets_their_own_rows_converted_as_the_orm_does(customer, other_customer):
    issue(customer, 3)
    issue(other_customer, 2, start=10)
    for person in (customer, other_customer, customer):
        got, expected = both_ways(person.pk)
        assert got == expected and got
        assert all(isinstance(total, Decimal) for _n, total, _at, _paid in got)
        assert all(at.tzinfo is not None for _n, _t, at, _paid in got)


def test_a_limit_is_part_of_the_statement(customer):
    issue(customer, 5)
    for limit in (2, 4, 2, None):
        got, expected = both_ways(customer.pk, limit)
        assert got == expected


def test_it_is_compiled_once_per_shape_and_runs_as_one_query(customer, other_customer,
                                                             django_assert_num_queries):
    reusable = ReusableQuery(invoices_of)
    issue(customer, 2)
    reusable.rows(customer_id=customer.pk)
    with django_assert_num_queries(1):
        assert len(reusable.rows(customer_id=customer.pk)) == 2
    reusable.rows(limit=1, customer_id=other_customer.pk)
    assert len(reusable._compiled) == 2


def test_list_arguments_and_strings(customer):
    issue(customer, 4)
    numbers = ReusableQuery(lambda numbers, prefix: (
        Invoice.objects.filter(number__in=numbers, customer_nic_handle=prefix)
        .order_by("sequence").values_list("sequence", flat=False)))
    wanted = [f"RQ-{customer.pk}-2", f"RQ-{customer.pk}-4"]
    assert numbers.rows(numbers=wanted, prefix=customer.nic_handle) == [(2,), (4,)]
    assert numbers.rows(numbers=wanted[:1], prefix=customer.nic_handle) == [(2,)]
    assert numbers.rows(numbers=wanted, prefix="nobody-OVH") == []


def test_a_value_the_orm_transforms_falls_back_to_building_the_query(customer):
    issue(customer, 2)
    # icontains wraps the value in % and changes its case: the stand-in is not found
    search = ReusableQuery(lambda text: Invoice.objects.filter(number__icontains=text)
                           .order_by("sequence").values_list("sequence"))
    assert search.rows(text=f"rq-{customer.pk}-2") == [(2,)]
    assert search.rows(text=f"rq-{customer.pk}-") == [(1,), (2,)]
    assert list(search._compiled.values()) == [None]
    empty = ReusableQuery(lambda ids: Invoice.objects.filter(pk__in=ids).values_list("pk"))
    assert empty.rows(ids=[]) == []


def test_pages_of_a_reusable_query_match_the_orms(customer):
    for n in range(30):
        SecurityEvent.objects.create(user=customer, action=SecurityEvent.Action.LOGIN,
                                     ip_address=f"192.0.2.{n}")
    events = ReusableQuery(lambda user_id: SecurityEvent.objects.filter(user_id=user_id)
                           .order_by("-pk").values_list("ip_address"))
    plain = SecurityEvent.objects.filter(user=customer).order_by("-pk").values_list("ip_address")
    for number in (None, "1", "2", "9", "junk"):
        reused = page_of(events.bind(user_id=customer.pk), number, 20)
        expected = page_of(plain, number, 20)
        assert (reused.number, list(reused.object_list), reused.paginator.count) == (
            expected.number, list(expected.object_list), expected.paginator.count)
    stranger = make_customer("stranger@example.org")
    theirs = SecurityEvent.objects.filter(user=stranger).values_list("ip_address")
    assert list(page_of(events.bind(user_id=stranger.pk), None, 20).object_list) == list(
        theirs) != list(expected.object_list)


def test_the_first_page_of_a_longer_list_costs_two_queries_its_count_compiled_once(
        customer, other_customer, django_assert_num_queries):
    issue(customer, 25)
    issue(other_customer, 3, start=100)
    reusable = ReusableQuery(invoices_of)
    page_of(reusable.bind(customer_id=customer.pk), None, 20)
    with django_assert_num_queries(2):  # the rows (21 of them), then COUNT(*)
        page = page_of(reusable.bind(customer_id=customer.pk), None, 20)
    assert (page.paginator.count, page.paginator.num_pages, len(page.object_list)) == (25, 2, 20)
    assert reusable.bind(customer_id=other_customer.pk).count() == 3
    assert len(reusable._compiled) == 2  # the rows' shape and the count's
    search = ReusableQuery(lambda text: Invoice.objects.filter(number__icontains=text)
                           .values_list("sequence"))
    assert search.bind(text=f"rq-{customer.pk}-1").count() == 11  # 1, 10-19: built anew


def test_on_postgresql_a_page_query_run_again_is_prepared_on_the_connection(postgres):
    """The settings bind parameters on the server, so a query run again has the same
    text and psycopg prepares it after DATABASE_PREPARE_THRESHOLD runs: PostgreSQL plans
    it no more."""
    from django.conf import settings
    from django.db import connection

    customer = make_customer("prepared@example.org")
    issue(customer, 3)
    threshold = settings.DATABASES["default"]["OPTIONS"]["prepare_threshold"]

    def prepared():
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements")
            return [row[0] for row in cursor.fetchall() if "RQ-" not in row[0]
                    and '"billing_invoice"' in row[0]]

    before = len(prepared())
    for _ in range(threshold + 1):
        assert len(INVOICES.rows(limit=2, customer_id=customer.pk)) == 2
    assert len(prepared()) == before + 1
