import pytest

from .conftest import place_order

pytestmark = pytest.mark.django_db


def test_it_lists_the_customers_orders_with_their_invoices(customer_client, customer,
                                                           other_customer, hosting, domain):
    order, invoice, _s = place_order(customer, hosting, name="mine.example")
    theirs, their_invoice, _s = place_order(other_customer, domain, name="theirs.com")
    page = customer_client.get("/billing/orders/").content.decode()
    assert "#1<" in page and "Web hosting – mine.example" in page
    assert invoice.number in page and "€60.38" in page and "Awaiting payment" in page
    assert "theirs.com" not in page and their_invoice.number not in page


def test_the_list_costs_a_fixed_number_of_queries(customer_client, customer, hosting,
                                                  django_assert_num_queries):
    for n in range(3):
        place_order(customer, hosting, name=f"site{n}.example")
    # session, user, orders with invoices, lines with their products and services; no
    # count while they fit on one page (portal.db.page_of)
    with django_assert_num_queries(4):
        customer_client.get("/billing/orders/")
    for n in range(3, 8):
        place_order(customer, hosting, name=f"site{n}.example")
    with django_assert_num_queries(4):
        customer_client.get("/billing/orders/")


def test_an_order_shows_its_lines_and_invoice(customer_client, customer, hosting):
    order, invoice, service = place_order(customer, hosting, period="month", name="blog.example")
    page = customer_client.get(f"/billing/orders/{order.pk}/").content.decode()
    assert "blog.example" in page and "1 month" in page and "Awaiting payment" in page
    assert f'href="/billing/invoices/{invoice.number}/"' in page
    assert customer.nic_handle in page


def test_another_customers_order_is_not_found(client, other_customer, customer, hosting):
    order, _invoice, _service = place_order(customer, hosting)
    client.force_login(other_customer)
    assert client.get(f"/billing/orders/{order.pk}/").status_code == 404


def test_orders_need_a_login(client):
    assert client.get("/billing/orders/").status_code == 302
    assert client.get("/billing/orders/1/").status_code == 302
