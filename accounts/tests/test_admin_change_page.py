import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import SecurityEvent
from notifications.services import email_queue

pytestmark = pytest.mark.django_db

MAX_QUERIES = 15


def add_history(customer, count):
    for _ in range(count):
        SecurityEvent.objects.create(user=customer, action=SecurityEvent.Action.LOGIN,
                                     ip_address="198.51.100.7", user_agent="Firefox")
        email_queue(template="password_changed", to=customer.email, user=customer,
                    context={"ip": "198.51.100.7", "how": "change"})


def change_page_queries(client, customer):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/admin/accounts/user/{customer.pk}/change/")
    assert response.status_code == 200
    return len(queries)


def test_the_change_page_of_a_customer_runs_a_few_queries_however_long_their_history(
    superuser_client, customer, django_assert_max_num_queries
):
    add_history(customer, 2)
    change_page_queries(superuser_client, customer)  # once: content types get cached
    few = change_page_queries(superuser_client, customer)
    add_history(customer, 40)
    with django_assert_max_num_queries(MAX_QUERIES):
        superuser_client.get(f"/admin/accounts/user/{customer.pk}/change/")
    assert change_page_queries(superuser_client, customer) == few


def test_an_agent_sees_the_change_page_in_as_few_queries(agent_client, customer,
                                                        django_assert_max_num_queries):
    add_history(customer, 40)
    with django_assert_max_num_queries(MAX_QUERIES):
        response = agent_client.get(f"/admin/accounts/user/{customer.pk}/change/")
    assert response.status_code == 200
