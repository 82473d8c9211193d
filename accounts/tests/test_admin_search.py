import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.admin import CappedCountPaginator

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


def counts_in(client, params):
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/admin/accounts/user/", params).status_code == 200
    return [query["sql"] for query in queries.captured_queries
            if "COUNT(" in query["sql"].upper()]


@pytest.mark.parametrize("params", [{"q": "dm000001-OVH"}, {"q": "Martín"}, {}],
                         ids=["nic handle", "name", "no search"])
def test_the_list_never_counts_every_customer(agent_client, customer, params):
    """Every COUNT is bounded: it stops at the paginator's cap (a LIMIT inside it), so
    a million customers cost what ten thousand do."""
    counts = counts_in(agent_client, params)
    assert counts, "the paginator counts the page's rows"
    cap = CappedCountPaginator.COUNT_CAP
    assert all(f"LIMIT {cap}" in sql.upper() for sql in counts), counts


def test_the_count_stops_at_the_cap(agent_client, customer, other_customer, monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "COUNT_CAP", 1)
    page = agent_client.get("/admin/accounts/user/").content.decode()
    assert "1 customer" in page


@pytest.mark.parametrize("term", ["Martín", "example.org", "@example.org", "+3491234"])
def test_other_words_still_search_names_addresses_and_phone(agent_client, customer,
                                                           other_customer, term):
    page, _sql = search(agent_client, term)
    assert customer.nic_handle in page
