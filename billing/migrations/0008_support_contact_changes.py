"""Support agents read contact changes and abort them ("change" is what the abort button
asks for: the rows stay read-only)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CODENAMES = ["view_contactchangerequest", "change_contactchangerequest"]


def grant(apps, schema_editor):
    app_config = apps.get_app_config("billing")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    group = apps.get_model("auth", "Group").objects.filter(name="Support").first()
    if group is None:
        return
    Permission = apps.get_model("auth", "Permission")
    group.permissions.add(*Permission.objects.filter(content_type__app_label="billing",
                                                     codename__in=CODENAMES))


def revoke(apps, schema_editor):
    group = apps.get_model("auth", "Group").objects.filter(name="Support").first()
    if group is not None:
        Permission = apps.get_model("auth", "Permission")
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="billing",
                                                            codename__in=CODENAMES))


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0007_service_contacts_required"),
        ("accounts", "0006_support_group"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
