"""Order numbers per customer, step 1: the column, filled in for the orders already
placed (each customer's in the order they were placed)."""

from django.db import migrations, models


def number_orders(apps, schema_editor):
    Order = apps.get_model("billing", "Order")
    last_customer, number = None, 0
    for order in Order.objects.order_by("customer_id", "created_at", "pk").only("pk", "customer_id"):
        number = number + 1 if order.customer_id == last_customer else 1
        last_customer = order.customer_id
        Order.objects.filter(pk=order.pk).update(number=number)


class Migration(migrations.Migration):

    dependencies = [
        ("billing", "0009_product_translated_names"),
    ]

    operations = [
        migrations.AddField(
            model_name="order",
            name="number",
            field=models.PositiveIntegerField(editable=False, null=True, verbose_name="number"),
        ),
        migrations.RunPython(number_orders, migrations.RunPython.noop),
    ]
