"""The invoice list reads each page once per version of the customer's invoices, then from
the cache (billing.selectors.invoice_list): what the customer sees must still be up to
date at once."""

import logging
from datetime import datetime, timedelta, timezone
from urllib.parse import urlparse

import pytest
import time_machine
from django.core.cache import caches

from billing.services.invoices import invoice_mark_paid
from conftest import _port_open, make_customer, require

from .conftest import NOW, bulk_invoices, place_order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def before_the_due_dates():
    """Orders are placed at NOW; the pages are seen the next day, before they fall due."""
    with time_machine.travel(NOW + timedelta(days=1)):
        yield

# Nothing listens on port 1: every cache call fails at once with "connection refused".
REDIS_DOWN = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": "redis://127.0.0.1:1/0",
                          "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}


@pytest.fixture(autouse=True)
def empty_cache():
    test_cache = caches["default"]  # the one a test's own CACHES setting replaces
    test_cache.clear()
    yield
    test_cache.clear()


def test_a_new_invoice_appears_on_a_list_already_cached(customer_client, customer, hosting,
                                                         django_assert_num_queries):
    _o, first, _s = place_order(customer, hosting)
    customer_client.get("/billing/invoices/")
    with django_assert_num_queries(2):  # served from the cache: session and user only
        cached = customer_client.get("/billing/invoices/").content.decode()
    assert f'<a href="/billing/invoices/{first.number}/"' in cached  # markup, not escaped
    _o, second, _s = place_order(customer, hosting, name="second.example")
    page = customer_client.get("/billing/invoices/").content.decode()
    assert first.number in page and second.number in page
    assert '<option value="2026">2026 (2)</option>' in page


def test_a_payment_shows_at_once_on_a_list_already_cached(customer_client, customer, hosting,
                                                          staff):
    _o, invoice, _s = place_order(customer, hosting)
    assert "Awaiting payment" in customer_client.get("/billing/invoices/").content.decode()
    invoice_mark_paid(invoice=invoice, staff_user=staff,
                      now=datetime(2026, 3, 12, tzinfo=timezone.utc))
    page = customer_client.get("/billing/invoices/").content.decode()
    assert "Awaiting payment" not in page
    assert '<span class="badge text-bg-success">Paid</span>' in page


def test_a_payment_marked_in_admin_shows_on_the_customers_list(customer_client, customer,
                                                               hosting, agent_client):
    _o, invoice, _s = place_order(customer, hosting)
    customer_client.get("/billing/invoices/")
    agent_client.post("/admin/billing/invoice/", {"action": "mark_paid",
                                                  "_selected_action": [invoice.pk]})
    assert "Awaiting payment" not in customer_client.get("/billing/invoices/").content.decode()


@time_machine.travel(datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc))  # its due day
def test_the_cached_list_follows_the_customers_language(customer_client, customer):
    bulk_invoices(customer, 1)
    english = customer_client.get("/billing/invoices/").content.decode()
    assert "€12.00" in english and "Awaiting payment" in english
    customer.language = "es"
    customer.save(update_fields=["language"])
    spanish = customer_client.get("/billing/invoices/").content.decode()
    assert "12,00\xa0€" in spanish and "Awaiting payment" not in spanish


def test_another_customer_never_gets_a_list_cached_for_someone_else(client, customer,
                                                                    customer_client):
    bulk_invoices(customer, 3)
    assert "FR2026-000003" in customer_client.get("/billing/invoices/").content.decode()
    other = make_customer("other-cache@example.com")
    client.force_login(other)
    page = client.get("/billing/invoices/").content.decode()
    assert "FR2026-000003" not in page and "You have no invoice yet." in page


def test_pages_and_years_are_cached_apart(customer_client, customer):
    bulk_invoices(customer, 30, year=2025)
    bulk_invoices(customer, 2, year=2026)
    customer_client.get("/billing/invoices/")
    second = customer_client.get("/billing/invoices/?page=2").content.decode()
    year = customer_client.get("/billing/invoices/?year=2026").content.decode()
    assert "Page 2 of 2" in second and "FR2025-000001" in second
    assert "FR2026-000002" in year and "FR2025-" not in year


def test_the_list_is_served_when_the_cache_server_is_down(customer_client, customer, settings,
                                                          caplog):
    bulk_invoices(customer, 2)
    settings.CACHES = REDIS_DOWN
    with caplog.at_level(logging.WARNING, logger="portal.cache"):
        response = customer_client.get("/billing/invoices/")
    assert response.status_code == 200
    assert "FR2026-000002" in response.content.decode()
    assert "Cache read failed" in caplog.text


def test_a_zero_cache_time_renders_the_list_each_time(customer_client, customer, settings,
                                                      django_assert_num_queries):
    settings.INVOICE_LIST_CACHE_SECONDS = 0
    bulk_invoices(customer, 2)
    customer_client.get("/billing/invoices/")
    with django_assert_num_queries(6):  # session, user, years, rows, received, credit notes
        customer_client.get("/billing/invoices/")


@pytest.fixture
def redis_cache(settings):
    """The production cache backend, on the Redis that CI runs as the Celery broker
    (database 3, which nothing else uses)."""
    broker = urlparse(settings.CELERY_BROKER_URL)
    require(broker.scheme in {"redis", "rediss"}
            and _port_open(broker.hostname, broker.port or 6379),
            "Redis (CELERY_BROKER_URL=redis://...)")
    settings.CACHES = {"default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"{broker.scheme}://{broker.hostname}:{broker.port or 6379}/3"}}
    redis = caches["default"]
    redis.clear()
    yield redis
    redis.clear()


def test_the_list_is_cached_in_redis_and_still_shows_a_payment_at_once(
        redis_cache, customer_client, customer, hosting, staff, django_assert_num_queries):
    _o, invoice, _s = place_order(customer, hosting)
    customer_client.get("/billing/invoices/")
    with django_assert_num_queries(2):
        page = customer_client.get("/billing/invoices/").content.decode()
    assert f'<a href="/billing/invoices/{invoice.number}/pdf/">PDF</a>' in page
    assert "Awaiting payment" in page
    invoice_mark_paid(invoice=invoice, staff_user=staff,
                      now=datetime(2026, 3, 12, tzinfo=timezone.utc))
    assert "Awaiting payment" not in customer_client.get("/billing/invoices/").content.decode()
