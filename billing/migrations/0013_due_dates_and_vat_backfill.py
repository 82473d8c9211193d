"""Invoices issued before due dates existed were due the day they were issued (so they
counted as overdue at once): they become due 14 days after their issue, the default
INVOICE_PAYMENT_DAYS. Lines written before VAT by country carried the seller's French
standard rate: that is their stored reason."""

from datetime import timedelta

from django.db import migrations
from django.db.models import F

PAYMENT_DAYS = 14


def forwards(apps, schema_editor):
    Invoice = apps.get_model("billing", "Invoice")
    Invoice.objects.filter(status="issued", issued_at__isnull=False).update(
        due_at=F("issued_at") + timedelta(days=PAYMENT_DAYS))
    for name in ("InvoiceLine", "OrderLine"):
        apps.get_model("billing", name).objects.filter(tax_country="").update(
            tax_reason="standard", tax_country="FR")


class Migration(migrations.Migration):
    dependencies = [("billing", "0012_vat_reasons_dunning_suspended")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
