from decimal import Decimal

import pytest
from django.core import mail

from billing.models import Order, Service

pytestmark = pytest.mark.django_db


def choose(product, period="year", name="example.com", **extra):
    return {"product": product.pk, "period": period, "service_name": name, **extra}


def test_it_needs_a_login(client):
    response = client.get("/billing/orders/new/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/billing/orders/new/"


def test_it_lists_the_catalogue_with_prices(customer_client, customer):
    page = customer_client.get("/billing/orders/new/").content.decode()
    for text in ("Domain name .com", "€12.99 a year", "Web hosting", "€4.99 a month",
                 "€49.90 a year", "VPS", 'name="service_name"', customer.nic_handle):
        assert text in page


def test_choosing_shows_the_price_to_confirm_and_orders_nothing_yet(customer_client, hosting):
    response = customer_client.post("/billing/orders/new/", choose(hosting))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Confirm your order" in page
    assert "€49.90" in page and "€10.48" in page and "€60.38" in page
    assert 'name="token"' in page and 'name="confirm"' in page
    assert not Order.objects.exists()


def confirmation(review):
    """What the confirmation page posts back."""
    return {"token": review.context["token"], "confirm": "1",
            "quoted_total": str(review.context["quote"].total_amount)}


def test_confirming_places_the_order_and_sends_the_email(
    customer_client, customer, hosting, django_capture_on_commit_callbacks
):
    review = customer_client.post("/billing/orders/new/", choose(hosting))
    assert 'name="quoted_total" value="60.38"' in review.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = customer_client.post(
            "/billing/orders/new/", choose(hosting, **confirmation(review)), follow=True)
    order = Order.objects.get(customer=customer)
    assert response.redirect_chain == [(f"/billing/orders/{order.pk}/", 302)]
    page = response.content.decode()
    assert "your order is confirmed" in page
    assert order.invoice.number in page and "Awaiting payment" in page
    assert len(mail.outbox) == 1 and customer.nic_handle in mail.outbox[0].body


def test_confirming_twice_places_one_order(customer_client, customer, hosting):
    review = customer_client.post("/billing/orders/new/", choose(hosting))
    for _ in range(2):
        customer_client.post("/billing/orders/new/", choose(hosting, **confirmation(review)))
    assert Order.objects.filter(customer=customer).count() == 1


def test_a_price_changed_since_the_review_is_shown_again_before_ordering(
    customer_client, customer, hosting
):
    review = customer_client.post("/billing/orders/new/", choose(hosting))
    hosting.price_yearly = "59.90"
    hosting.save()
    response = customer_client.post("/billing/orders/new/", choose(hosting, **confirmation(review)))
    page = response.content.decode()
    assert "The price has changed" in page and "€72.48" in page
    assert not Order.objects.exists()
    customer_client.post("/billing/orders/new/", choose(hosting, **confirmation(response)))
    assert Order.objects.get(customer=customer).invoice.total == Decimal("72.48")


@pytest.mark.parametrize("quoted", [None, "", "abc", "NaN", "sNaN", "59.87"])
def test_a_confirmation_without_the_reviewed_price_shows_the_price_again(
    customer_client, hosting, quoted
):
    review = customer_client.post("/billing/orders/new/", choose(hosting))
    posted = {**confirmation(review), "quoted_total": quoted}
    if quoted is None:
        del posted["quoted_total"]
    response = customer_client.post("/billing/orders/new/", choose(hosting, **posted))
    page = response.content.decode()
    assert "The price has changed" in page and 'name="quoted_total" value="60.38"' in page
    assert not Order.objects.exists()


def test_a_domain_name_is_checked_and_normalised(customer_client, customer, domain):
    bad = customer_client.post("/billing/orders/new/", choose(domain, name="not a domain"))
    assert "Enter a domain name such as example.com." in bad.content.decode()
    wrong_ending = customer_client.post("/billing/orders/new/", choose(domain, name="example.org"))
    assert "must end with .com" in wrong_ending.content.decode()
    good = customer_client.post("/billing/orders/new/", choose(domain, name=" Ñandú.COM "))
    assert good.context["data"]["service_name"] == "xn--and-6ma2c.com"
    customer_client.post("/billing/orders/new/", choose(domain, name=" Ñandú.COM ",
                                                        **confirmation(good)))
    assert Service.objects.get(customer=customer).name == "xn--and-6ma2c.com"


def test_a_period_the_product_is_not_sold_for_is_refused(customer_client, domain):
    response = customer_client.post("/billing/orders/new/", choose(domain, period="month"))
    assert "is not sold for this period" in response.content.decode()
    assert not Order.objects.exists()


def test_a_product_off_sale_cannot_be_ordered(customer_client, hosting):
    hosting.is_active = False
    hosting.save()
    response = customer_client.post("/billing/orders/new/", choose(hosting))
    assert "Select a valid choice" in response.content.decode()
    assert not Order.objects.exists()
