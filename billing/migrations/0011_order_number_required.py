"""Order numbers per customer, step 2: required and unique per customer."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("billing", "0010_order_number"),
    ]

    operations = [
        migrations.AlterField(
            model_name="order",
            name="number",
            field=models.PositiveIntegerField(editable=False, verbose_name="number"),
        ),
        migrations.AddConstraint(
            model_name="order",
            constraint=models.UniqueConstraint(fields=("customer", "number"),
                                               name="order_number_unique"),
        ),
    ]
