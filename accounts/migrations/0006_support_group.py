"""The "Support" group: exactly the permissions support agents need. Superusers come
from createsuperuser; agents are staff accounts put in this group."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

SUPPORT_PERMISSIONS = {
    # Find and edit customers (never delete), read their security log, decide their
    # email-change and recovery requests, see who asked for a password reset.
    "accounts": ["view_user", "change_user", "view_securityevent",
                 "view_emailchangerequest", "change_emailchangerequest",
                 "view_recoveryrequest", "change_recoveryrequest",
                 "view_passwordresetattempt"],
    # Read the outbox; "change" is what the resend action asks for (rows stay read-only).
    "notifications": ["view_outboundemail", "change_outboundemail"],
    # Orders and services to read; invoices to read and mark paid ("change" is what the
    # action asks for: an issued invoice stays read-only).
    "billing": ["view_product", "view_service", "view_order", "view_invoice",
                "change_invoice"],
}


def create_support_group(apps, schema_editor):
    # Permissions are normally created after all migrations ran; make sure they exist.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _created = Group.objects.get_or_create(name="Support")
    wanted = []
    for app_label, codenames in SUPPORT_PERMISSIONS.items():
        found = list(Permission.objects.filter(content_type__app_label=app_label,
                                               codename__in=codenames))
        missing = set(codenames) - {p.codename for p in found}
        if missing:
            raise RuntimeError(f"Missing permissions for the Support group: {sorted(missing)}")
        wanted += found
    group.permissions.set(wanted)


def remove_support_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Support").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_password_reset_attempt"),
        ("notifications", "0002_bulk_context"),
        ("billing", "0002_catalogue"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_support_group, remove_support_group)]
