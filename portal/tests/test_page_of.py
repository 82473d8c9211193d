"""portal.db.page_of: pages as Paginator.get_page gives them, with no COUNT query when
the whole list fits on the first page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import SecurityEvent
from portal.db import page_of

pytestmark = pytest.mark.django_db


def events(customer, count):
    SecurityEvent.objects.filter(user=customer).delete()
    SecurityEvent.objects.bulk_create(
        SecurityEvent(user=customer, action=SecurityEvent.Action.LOGIN) for _ in range(count))
    return SecurityEvent.objects.filter(user=customer).order_by("pk")


@pytest.mark.parametrize("number", [None, "", "1", 1, "abc", "1.5"])
def test_a_short_list_is_one_page_read_in_one_query(customer, number):
    rows = events(customer, 4)
    with CaptureQueriesContext(connection) as queries:
        page = page_of(rows, number, 5)
    assert len(queries) == 1 and "COUNT(" not in queries[0]["sql"].upper()
    assert page.number == 1 and page.paginator.num_pages == 1 and page.paginator.count == 4
    assert [event.pk for event in page.object_list] == list(rows.values_list("pk", flat=True))
    assert not page.has_next()


@pytest.mark.parametrize("number, shown", [(None, 1), ("2", 2), ("3", 3), ("99", 3),
                                           ("abc", 1), ("0", 3), ("9" * 40, 3)])
def test_a_long_list_pages_as_django_does(customer, number, shown):
    rows = events(customer, 12)
    page = page_of(rows, number, 5)
    assert page.number == shown and page.paginator.count == 12
    assert page.paginator.num_pages == 3
    expected = list(rows.values_list("pk", flat=True))[(shown - 1) * 5:shown * 5]
    assert [event.pk for event in page.object_list] == expected
    assert isinstance(page.object_list, list)


def test_an_empty_list_is_one_empty_page(customer):
    page = page_of(events(customer, 0), "4", 5)
    assert page.number == 1 and list(page.object_list) == [] and page.paginator.count == 0
