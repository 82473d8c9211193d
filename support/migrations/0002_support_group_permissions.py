"""Give the "Support" group (accounts 0006) what agents need here: read and answer
support requests, use the canned answers, read and mark contact messages."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

# Agents add and delete nothing (accounts' test of the group says so): superusers write
# the canned answers, agents use and correct them.
PERMISSIONS = ["view_supportrequest", "change_supportrequest",
               "view_cannedanswer", "change_cannedanswer",
               "view_contactmessage", "change_contactmessage"]


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations ran; make sure they exist.
    app_config = apps.get_app_config("support")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _created = Group.objects.get_or_create(name="Support")
    found = list(Permission.objects.filter(content_type__app_label="support",
                                           codename__in=PERMISSIONS))
    missing = set(PERMISSIONS) - {p.codename for p in found}
    if missing:
        raise RuntimeError(f"Missing permissions for the Support group: {sorted(missing)}")
    group.permissions.add(*found)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="Support").first()
    if group:
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="support",
                                                            codename__in=PERMISSIONS))


class Migration(migrations.Migration):
    dependencies = [
        ("support", "0001_support_requests"),
        ("accounts", "0006_support_group"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
