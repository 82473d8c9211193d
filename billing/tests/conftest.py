"""Billing test helpers: the seeded catalogue, a staff member, orders placed the way the
order form places them, and invoices stored under a temporary MEDIA_ROOT."""

from datetime import datetime, timezone

import pytest

from billing.models import Product
from billing.services import order_place
from conftest import make_customer

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def hosting(db):
    return Product.objects.get(code="web-hosting")


@pytest.fixture
def domain(db):
    return Product.objects.get(code="domain-com")


@pytest.fixture
def staff(db):
    user = make_customer("support@example.com", first_name="Sam", last_name="Support")
    user.is_staff = user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])
    return user


def place_order(customer, product, period="year", name="example.com", now=NOW):
    order = order_place(customer=customer, product=product, period=period,
                        service_name=name, now=now)
    return order, order.invoice, order.lines.get().service
