from datetime import timedelta

import pytest
import time_machine

from billing.models import Invoice

from .conftest import NOW, bulk_invoices, place_order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def before_the_due_dates():
    """Orders are placed at NOW; the pages are seen the next day, before they fall due."""
    with time_machine.travel(NOW + timedelta(days=1)):
        yield


def test_it_needs_a_login(client):
    response = client.get("/billing/invoices/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/billing/invoices/"


def test_it_lists_only_the_customers_invoices_newest_first(customer_client, customer,
                                                           other_customer, hosting):
    _o, mine, _s = place_order(customer, hosting)
    _o, theirs, _s = place_order(other_customer, hosting)
    _o, newer, _s = place_order(customer, hosting, name="second.example")
    response = customer_client.get("/billing/invoices/")
    page = response.content.decode()
    assert [i["number"] for i in response.context["page"]] == [newer.number, mine.number]
    assert mine.number in page and newer.number in page
    assert theirs.number not in page
    assert "€60.38" in page and "Awaiting payment" in page
    assert f"/billing/invoices/{mine.number}/pdf/" in page


def test_it_pages_by_25(customer_client, customer):
    bulk_invoices(customer, 30)
    first = customer_client.get("/billing/invoices/")
    second = customer_client.get("/billing/invoices/?page=2")
    assert len(first.context["page"]) == 25 and len(second.context["page"]) == 5
    assert "FR2026-000030" in first.content.decode()
    assert "FR2026-000005" in second.content.decode()
    assert "Page 2 of 2" in second.content.decode()


def test_it_filters_by_year(customer_client, customer):
    bulk_invoices(customer, 3, year=2025)
    bulk_invoices(customer, 2, year=2026)
    response = customer_client.get("/billing/invoices/?year=2025")
    assert [i["number"] for i in response.context["page"]] == [
        "FR2025-000003", "FR2025-000002", "FR2025-000001"]
    page = response.content.decode()
    assert '<option value="2025" selected>2025 (3)</option>' in page
    assert '<option value="2026">2026 (2)</option>' in page
    assert "FR2026-000001" not in page


def test_a_year_without_invoices_or_a_bad_year_shows_everything(customer_client, customer):
    bulk_invoices(customer, 2, year=2026)
    for url in ("/billing/invoices/?year=1999", "/billing/invoices/?year=abc"):
        page = customer_client.get(url).content.decode()
        assert "FR2026-000001" in page and "FR2026-000002" in page
        assert '<option value="" selected' not in page  # "All years" is the default


def test_the_year_filter_is_kept_across_pages(customer_client, customer):
    bulk_invoices(customer, 30, year=2025)
    page = customer_client.get("/billing/invoices/?year=2025").content.decode()
    assert "?year=2025&amp;page=2" in page


def test_drafts_are_not_listed(customer_client, customer):
    Invoice.objects.create(customer=customer, kind=Invoice.Kind.ORDER, created_at="2026-01-01T00:00Z")
    assert "You have no invoice yet." in customer_client.get("/billing/invoices/").content.decode()


@pytest.mark.parametrize("count", [10, 1000])
def test_the_query_count_does_not_grow_with_the_invoices(customer_client, customer,
                                                         django_assert_num_queries, count):
    bulk_invoices(customer, count)
    # session, user, years with their counts, page rows, what the unpaid rows received
    # (payments and credit notes, one query), the latest credit notes
    with django_assert_num_queries(6):
        response = customer_client.get("/billing/invoices/")
    assert response.status_code == 200
    assert len(response.context["page"]) == min(count, 25)
    # The years and credit notes are cached now: session, user, page rows, received.
    with django_assert_num_queries(4):
        customer_client.get("/billing/invoices/?year=2026&page=2")
    # A page seen before: session and user only.
    with django_assert_num_queries(2):
        response = customer_client.get("/billing/invoices/")
    assert f"FR2026-{count:06d}" in response.content.decode()


def test_dates_and_amounts_follow_the_customers_language(customer_client, customer):
    customer.language = "es"
    customer.save()
    bulk_invoices(customer, 1)
    page = customer_client.get("/billing/invoices/").content.decode()
    assert "12,00\xa0€" in page and "01/01/2026" in page
    assert 'href="/billing/invoices/FR2026-000001/pdf/"' in page


def test_values_in_the_rows_are_escaped(customer_client, customer):
    invoice, = bulk_invoices(customer, 1)
    Invoice.objects.filter(pk=invoice.pk).update(number='<b>"x"&y</b>', currency="<i>")
    page = customer_client.get("/billing/invoices/").content.decode()
    assert '<b>"x"' not in page and "<i>" not in page
    assert "&lt;b&gt;&quot;x&quot;&amp;y&lt;/b&gt;" in page and "&lt;i&gt;12.00" in page
