"""Invoices marked paid before payments were recorded get the payment of their total, so
their amount due is zero."""

from django.db import migrations


def backfill(apps, schema_editor):
    Invoice = apps.get_model("billing", "Invoice")
    Payment = apps.get_model("billing", "Payment")
    paid = Invoice.objects.filter(paid_at__isnull=False, payments__isnull=True, total__gt=0)
    Payment.objects.bulk_create(
        [Payment(invoice_id=invoice.pk, amount=invoice.total, received_on=invoice.paid_at.date(),
                 method="manual", recorded_at=invoice.paid_at, recorded_by_id=invoice.paid_by_id)
         for invoice in paid.iterator()], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("billing", "0014_payments_credit_notes_statements")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
