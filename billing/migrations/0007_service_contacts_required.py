import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0006_service_contacts_backfill"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="service", name="admin_contact",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT,
                                    related_name="admin_services", to=settings.AUTH_USER_MODEL,
                                    verbose_name="administrator contact"),
        ),
        migrations.AlterField(
            model_name="service", name="tech_contact",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT,
                                    related_name="tech_services", to=settings.AUTH_USER_MODEL,
                                    verbose_name="technical contact"),
        ),
        migrations.AlterField(
            model_name="service", name="billing_contact",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT,
                                    related_name="billing_services", to=settings.AUTH_USER_MODEL,
                                    verbose_name="billing contact"),
        ),
    ]
