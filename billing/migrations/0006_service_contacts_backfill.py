"""Existing services: their owner becomes their administrator, technical and billing
contact, as a new service's is at creation."""

from django.db import migrations
from django.db.models import F


def owner_as_contacts(apps, schema_editor):
    Service = apps.get_model("billing", "Service")
    Service.objects.filter(admin_contact__isnull=True).update(admin_contact=F("customer"))
    Service.objects.filter(tech_contact__isnull=True).update(tech_contact=F("customer"))
    Service.objects.filter(billing_contact__isnull=True).update(billing_contact=F("customer"))


class Migration(migrations.Migration):
    dependencies = [("billing", "0005_service_contacts_and_change_requests")]

    operations = [migrations.RunPython(owner_as_contacts, migrations.RunPython.noop)]
