"""The orders and services lists, drawn once for their data ({% fragment_cache %}), show
every change on the very next request, with the cache on as in production."""

import re

import pytest
from django.test import Client

from billing.models import Payment
from billing.services.payments import payment_record

from .conftest import NOW, place_order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def cache_on(settings):
    settings.FRAGMENT_CACHE_SECONDS = 3600


def test_the_orders_list_shows_a_payment_at_once(customer_client, customer, hosting):
    _order, invoice, _service = place_order(customer, hosting)
    assert "Awaiting payment" in customer_client.get("/billing/orders/").content.decode()
    payment_record(invoice=invoice, amount=None, method=Payment.Method.BANK_TRANSFER, now=NOW)
    page = customer_client.get("/billing/orders/").content.decode()
    assert "Paid" in page and "Awaiting payment" not in page


def test_a_cached_services_list_still_posts_with_the_requests_own_token(
        customer, hosting):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(customer)
    _order, _invoice, service = place_order(customer, hosting, name="cached.example")
    customer_client_pages = [csrf_client.get("/billing/services/").content.decode()
                             for _ in range(2)]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"',
                      customer_client_pages[1]).group(1)
    on = "auto_renew=on" if 'value="on"' in customer_client_pages[1] else None
    response = csrf_client.post(f"/billing/services/{service.pk}/auto-renew/",
                                {"csrfmiddlewaretoken": token,
                                 "auto_renew": "on" if on else "off"})
    assert response.status_code == 302
    service.refresh_from_db()
    assert service.auto_renew is bool(on)
    page = csrf_client.get("/billing/services/").content.decode()
    assert ('value="off"' in page) is bool(on)


def test_the_dashboard_shows_a_payment_and_a_new_order_at_once(customer_client, customer,
                                                               hosting):
    _order, invoice, _service = place_order(customer, hosting, name="first.example")
    page = customer_client.get("/account/").content.decode()
    assert 'id="dashboard-amount-due"' in page and "first.example" in page
    payment_record(invoice=invoice, amount=None, method=Payment.Method.BANK_TRANSFER, now=NOW)
    page = customer_client.get("/account/").content.decode()
    assert 'id="dashboard-nothing-to-pay"' in page and 'id="dashboard-no-pending-orders"' in page
    place_order(customer, hosting, name="second.example")
    page = customer_client.get("/account/").content.decode()
    assert 'id="dashboard-amount-due"' in page
    assert "Web hosting – second.example" in page


def test_the_order_form_shows_a_new_price_at_once(customer_client, hosting):
    assert "Web hosting" in customer_client.get("/billing/orders/new/").content.decode()
    hosting.name, hosting.price_yearly = "Hosting plus", hosting.price_yearly + 1
    hosting.save(update_fields=["name", "price_yearly"])
    page = customer_client.get("/billing/orders/new/").content.decode()
    assert "Hosting plus" in page and "Web hosting" not in page
