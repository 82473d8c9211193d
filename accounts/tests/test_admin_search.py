import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.admin import SEARCH_MATCHES_MAX, SearchCountPaginator
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
    # On PostgreSQL a name search with few matches knows their number already.
    assert counts or (params == {"q": "Martín"} and connection.vendor == "postgresql")
    cap = SearchCountPaginator.COUNT_CAP if params else CappedCountPaginator.COUNT_CAP
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


def test_a_search_counts_its_matches_only_up_to_the_search_cap(agent_client, customer,
                                                              other_customer, monkeypatch):
    """Past SEARCH_MATCHES_MAX matches staff narrow the search: counting more costs a
    table read per match at a million customers."""
    assert SearchCountPaginator.COUNT_CAP == SEARCH_MATCHES_MAX
    assert all("LIMIT 1000)" in sql.upper() for sql in counts_in(agent_client, {"q": "mar"}))
    monkeypatch.setattr(SearchCountPaginator, "COUNT_CAP", 1)
    page = agent_client.get("/admin/accounts/user/", {"q": "example"}).content.decode()
    assert customer.nic_handle in page and other_customer.nic_handle in page
    assert "1 result" in page


@pytest.mark.parametrize("term", ["artí", "MARTín", "mARt", "Dani", "daniel mart",
                                  '"Daniel" Martín', "Ma", "dA", "d", "ma dan"])
def test_a_partial_name_finds_the_customer_whatever_its_case(agent_client, customer,
                                                              other_customer, term):
    page, _sql = search(agent_client, term)
    assert customer.nic_handle in page and other_customer.nic_handle not in page


@pytest.mark.parametrize("term", ["rt", "ín", "el", "daniel ot", "Martínez"])
def test_a_word_of_one_or_two_letters_matches_the_start_of_a_column_only(
        agent_client, customer, other_customer, term):
    """A trigram index finds three letters anywhere; "Li" or "Wu" has no trigram, so
    it is matched where a name starts (what an agent means by two letters) instead of
    reading the whole table."""
    page, _sql = search(agent_client, term)
    assert customer.nic_handle not in page


def test_a_two_letter_search_reads_the_start_of_each_column(agent_client, customer):
    _page, sql = search(agent_client, "Ma")
    assert "MA%'" in sql.upper() and "'%MA%'" not in sql.upper()


@pytest.mark.services
def test_the_trigram_indexes_take_new_customers_without_a_pending_list(postgres):
    """accounts 0023: a search never reads an unsorted list of recent signups (36 ms of
    a surname search at a million customers after 50,000 signups)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, reloptions FROM pg_class "
                       "WHERE relname LIKE 'user\\_%\\_trgm\\_idx'")
        options = dict(cursor.fetchall())
    assert len(options) == 7, options
    assert all(value == ["fastupdate=off"] for value in options.values()), options


@pytest.mark.services
@pytest.mark.parametrize("term", ["artí", "ARTÍN", "mart", "Ma", "dAN mar"])
def test_on_postgresql_a_partial_name_finds_the_customer_through_the_indexes(
        postgres, agent_client, customer, other_customer, term):
    page, sql = search(agent_client, term)
    assert customer.nic_handle in page and other_customer.nic_handle not in page
    assert 'UPPER("accounts_user"."last_name"::text) LIKE' in sql  # the indexed expression


def test_each_row_keeps_its_action_checkbox(agent_client, customer):
    """UserAdmin writes the row's checkbox itself (the widget's templates cost a sixth of
    the page): the same input the admin's actions read."""
    page = agent_client.get("/admin/accounts/user/").content.decode()
    assert (f'<input type="checkbox" name="_selected_action" value="{customer.pk}" '
            f'class="action-select" aria-label="Select this object for an action - '
            f'{customer.nic_handle}">') in page
    assert 'id="action-toggle"' in page


@pytest.mark.services
def test_a_search_with_few_matches_counts_them_without_a_count_query(
        postgres, agent_client, customer, other_customer):
    page, sql = search(agent_client, "example")
    assert customer.nic_handle in page and other_customer.nic_handle in page
    from accounts.models import User

    matches = User.objects.filter(email__icontains="example").count()
    assert f"{matches} results" in page, re.findall(r"\d+ (?:results?|customers?)", page)
    assert "COUNT(" not in sql.upper()


def test_the_row_checkbox_label_is_in_the_agents_language(agent_client, support_agent,
                                                          customer):
    support_agent.language = "es"
    support_agent.save()
    page = agent_client.get("/admin/accounts/user/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert '<html lang="es"' in page, page[:200]
    assert "Select this object for an action" not in page
    assert f"Seleccione este objeto para una acción - {customer.nic_handle}" in page
