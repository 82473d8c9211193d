"""A small starting catalogue. Staff change prices and add products in admin."""

from decimal import Decimal

from django.db import migrations

CATALOGUE = [
    # code, name, kind, domain suffix, monthly, yearly, position
    ("domain-com", "Domain name .com", "domain", ".com", None, "12.99", 10),
    ("web-hosting", "Web hosting", "hosting", "", "4.99", "49.90", 20),
    ("vps", "VPS", "vps", "", "9.99", "107.88", 30),
]


def add_catalogue(apps, schema_editor):
    Product = apps.get_model("billing", "Product")
    for code, name, kind, suffix, monthly, yearly, position in CATALOGUE:
        Product.objects.get_or_create(code=code, defaults={
            "name": name, "kind": kind, "domain_suffix": suffix,
            "price_monthly": Decimal(monthly) if monthly else None,
            "price_yearly": Decimal(yearly) if yearly else None,
            "tax_rate": Decimal("20.00"), "position": position,
        })


def remove_catalogue(apps, schema_editor):
    Product = apps.get_model("billing", "Product")
    Product.objects.filter(code__in=[row[0] for row in CATALOGUE], services__isnull=True).delete()


class Migration(migrations.Migration):

    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunPython(add_catalogue, remove_catalogue)]
