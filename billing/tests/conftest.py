"""Billing test helpers: the seeded catalogue, a staff member, orders placed the way the
order form places them, and invoices stored under a temporary MEDIA_ROOT."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from billing.models import Invoice, Product
from billing.services.invoices import invoice_list_changed
from billing.services.orders import order_place, order_quote
from conftest import make_customer

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


# The catalogue seeded by migration 0002, re-created when a transactional test has
# flushed the tables before.
CATALOGUE = {
    "web-hosting": {"name": "Web hosting", "kind": "hosting", "price_monthly": Decimal("4.99"),
                    "price_yearly": Decimal("49.90"), "position": 20},
    "domain-com": {"name": "Domain name .com", "kind": "domain", "domain_suffix": ".com",
                   "price_yearly": Decimal("12.99"), "position": 10},
}


def catalogue_product(code):
    return Product.objects.get_or_create(code=code, defaults=CATALOGUE[code])[0]


@pytest.fixture
def hosting(db):
    return catalogue_product("web-hosting")


@pytest.fixture
def domain(db):
    return catalogue_product("domain-com")


@pytest.fixture
def staff(db):
    user = make_customer("support@example.com", first_name="Sam", last_name="Support")
    user.is_staff = user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])
    return user


def place_order(customer, product, period="year", name="example.com", now=NOW):
    """An order confirmed at the price shown, as the order form places it."""
    quote = order_quote(product=product, period=period, customer=customer)
    order = order_place(customer=customer, product=product, period=period,
                        service_name=name, quoted_total=quote.total_amount, now=now)
    return order, order.invoice, order.lines.get().service


def bulk_invoices(customer, count, *, year=2026, start=1):
    """`count` issued invoices for `customer`, written in one go (for list and query-count
    tests; they have no lines)."""
    first_day = datetime(year, 1, 1, 8, 0, tzinfo=timezone.utc)
    invoice_list_changed(customer_id=customer.pk)  # as issuing one does
    customer.refresh_from_db(fields=["invoice_list_version"])
    return Invoice.objects.bulk_create([
        Invoice(customer=customer, kind=Invoice.Kind.RENEWAL, status=Invoice.Status.ISSUED,
                created_at=first_day, issued_at=first_day + timedelta(minutes=n),
                due_at=first_day, year=year, sequence=n, number=f"FR{year}-{n:06d}",
                customer_nic_handle=customer.nic_handle, subtotal=Decimal("10.00"),
                tax_total=Decimal("2.00"), total=Decimal("12.00"))
        for n in range(start, start + count)
    ], batch_size=500)


def phone_page(playwright, *, chromium_path, live_server, user):
    """A Chromium page 390 pixels wide, in `user`'s language, logged in as `user`."""
    from django.conf import settings
    from django.test import Client

    from conftest import CHROMIUM_ARGS

    client = Client()
    client.force_login(user)
    browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale=user.language)
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "url": live_server.url,
                          "value": client.cookies[settings.SESSION_COOKIE_NAME].value}])
    return context.new_page()
