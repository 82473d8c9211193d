"""The selectors return pages whose rows are loaded: what a template reads of them costs
no query."""

import pytest
from django.utils import translation

from billing.selectors import PAGE_SIZE, invoice_list, order_list, service_list

from .conftest import bulk_invoices, place_order

pytestmark = pytest.mark.django_db


def test_a_service_page_carries_its_products(customer, other_customer, hosting,
                                             django_assert_num_queries):
    for n in range(3):
        place_order(customer, hosting, name=f"site{n}.example")
    place_order(other_customer, hosting, name="theirs.example")
    with translation.override("en"):
        page = service_list(user=customer, page=None)
    with django_assert_num_queries(0):
        shown = [(service.name, service.product_name) for service in page]
    assert shown == [(f"site{n}.example", "Web hosting") for n in (2, 1, 0)]


def test_an_order_page_carries_its_invoices_lines_products_and_services(
        customer, hosting, django_assert_num_queries):
    for n in range(3):
        place_order(customer, hosting, name=f"site{n}.example")
    with django_assert_num_queries(2), translation.override("en"):
        # the orders with their invoices, and their lines
        page = order_list(user=customer, page="1")
    shown = [(order.invoice_number, order.items) for order in page]
    assert shown[0] == ("FR2026-000003", [("Web hosting", "site2.example")])
    assert len(shown) == 3


def test_an_order_page_names_products_in_the_active_language(customer, hosting):
    hosting.name_es, hosting.name_fr = "Alojamiento web", ""
    hosting.save(update_fields=["name_es", "name_fr"])
    place_order(customer, hosting, name="sitio.example")
    with translation.override("es"):
        assert order_list(user=customer, page=None)[0].items == [("Alojamiento web",
                                                                  "sitio.example")]
    with translation.override("fr"):  # no French name: the default one
        assert order_list(user=customer, page=None)[0].items == [("Web hosting",
                                                                  "sitio.example")]


def test_a_page_number_out_of_range_or_not_a_number_gives_a_page(customer):
    bulk_invoices(customer, PAGE_SIZE + 1)
    assert invoice_list(user=customer, year=None, page="99").page.number == 2
    assert invoice_list(user=customer, year=None, page="abc").page.number == 1
    assert order_list(user=customer, page="7").number == 1


def test_an_invoice_page_is_read_once_then_comes_from_the_cache(customer,
                                                                django_assert_num_queries):
    bulk_invoices(customer, 30, year=2025)
    bulk_invoices(customer, 2, year=2026)
    with django_assert_num_queries(3):  # the years with their counts, the page's rows, received
        first = invoice_list(user=customer, year=2025, page=2)
    with django_assert_num_queries(0):
        again = invoice_list(user=customer, year=2025, page=2)
    for invoices in (first, again):
        assert [row["number"] for row in invoices.page] == [
            f"FR2025-{n:06d}" for n in range(5, 0, -1)]
        assert invoices.years == [(2026, 2), (2025, 30)] and invoices.year == 2025
        assert invoices.page.paginator.num_pages == 2


def test_a_year_without_invoices_lists_them_all(customer):
    bulk_invoices(customer, 2, year=2026)
    invoices = invoice_list(user=customer, year=1999, page=None)
    assert invoices.year is None and len(invoices.page) == 2
