import importlib
from decimal import Decimal

import pytest
from django.apps import apps

from billing.models import Product

pytestmark = pytest.mark.django_db

seed = importlib.import_module("billing.migrations.0002_catalogue")


def test_the_catalogue_migration_seeds_a_domain_hosting_and_a_vps():
    # Run again: a transactional test may have flushed what the migration wrote, and
    # running it twice must be harmless.
    seed.add_catalogue(apps, None)
    seed.add_catalogue(apps, None)
    products = {p.code: p for p in Product.objects.all()}
    assert set(products) == {"domain-com", "web-hosting", "vps"}
    assert products["domain-com"].price_for("month") is None
    assert products["domain-com"].price_for("year") == Decimal("12.99")
    assert products["domain-com"].domain_suffix == ".com"
    assert products["web-hosting"].price_for("month") == Decimal("4.99")
    assert products["vps"].price_for("year") == Decimal("107.88")
    assert all(p.tax_rate == Decimal("20.00") and p.is_active for p in products.values())
