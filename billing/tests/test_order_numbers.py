"""Order numbers read per customer: a new customer's first order is #1."""

import pytest

from billing.models import Order
from billing.tests.conftest import NOW, catalogue_product, place_order
from conftest import make_customer, run_at_once

pytestmark = pytest.mark.django_db


def test_each_customers_orders_are_numbered_from_one(customer, other_customer, hosting, domain):
    place_order(other_customer, hosting, name="theirs.example")
    first, _invoice, _service = place_order(customer, hosting, name="one.example")
    second, _invoice, _service = place_order(customer, domain, name="two.com")
    assert (first.number, second.number) == (1, 2)
    assert str(first) == "#1"


def test_the_order_pages_and_email_show_the_customers_number(customer_client, customer,
                                                             other_customer, hosting, mailoutbox):
    place_order(other_customer, hosting, name="theirs.example")
    order, _invoice, _service = place_order(customer, hosting, name="mine.example")
    assert order.pk != 1
    listing = customer_client.get("/billing/orders/").content.decode()
    detail = customer_client.get(f"/billing/orders/{order.pk}/").content.decode()
    assert ">#1</a>" in listing
    assert "Order #1" in detail


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_orders_placed_at_once_by_one_customer_get_distinct_numbers(postgres):
    buyer = make_customer("many.orders@example.org")
    hosting = catalogue_product("web-hosting")

    def order(n):
        return place_order(buyer, hosting, name=f"site{n}.example", now=NOW)[0].number

    numbers, errors = run_at_once(order, 8)
    assert errors == []
    assert sorted(numbers) == list(range(1, 9))
    assert sorted(Order.objects.filter(customer=buyer).values_list("number", flat=True)) == \
        list(range(1, 9))
