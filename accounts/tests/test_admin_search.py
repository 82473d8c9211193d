import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db


def search(client, term):
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/admin/accounts/user/", {"q": term}).content.decode()
    return page, " ".join(query["sql"] for query in queries.captured_queries)


@pytest.mark.parametrize("transform", [str, str.upper, lambda handle: handle.split("-")[0]])
def test_a_nic_handle_finds_its_customer_through_the_index_without_a_substring_search(
    agent_client, customer, other_customer, transform
):
    page, sql = search(agent_client, transform(customer.nic_handle))
    assert customer.nic_handle in page and other_customer.nic_handle not in page
    assert " LIKE " not in sql.upper()
    assert 'LOWER("accounts_user"."nic_handle") =' in sql


@pytest.mark.parametrize("address", ["DANIEL@example.org", "Spare.Box@Example.net"])
def test_an_email_address_finds_its_customer_by_primary_or_spare_address(
    agent_client, customer, other_customer, address
):
    customer.spare_email = "spare.box@example.net"
    customer.save()
    page, sql = search(agent_client, address)
    assert customer.nic_handle in page and other_customer.nic_handle not in page
    assert " LIKE " not in sql.upper()


def test_the_search_never_counts_every_customer(agent_client, customer):
    _page, sql = search(agent_client, customer.nic_handle)
    counts = [part for part in sql.split("SELECT") if "COUNT(*)" in part.upper()]
    assert all("WHERE" in part.upper() for part in counts), counts


@pytest.mark.parametrize("term", ["Martín", "example.org", "@example.org", "+3491234"])
def test_other_words_still_search_names_addresses_and_phone(agent_client, customer,
                                                           other_customer, term):
    page, _sql = search(agent_client, term)
    assert customer.nic_handle in page
