"""django-otp's TOTP app is no longer installed (its seeds moved, sealed, to
AuthenticatorApp in 0018, which emptied its table). Its empty table, its migration
records and its content types (with the permissions staff could still be given on
them) are removed. A database created after 0018 never had any of them."""

from django.db import migrations

OLD_APP = "otp_totp"
OLD_TABLE = "otp_totp_totpdevice"


def drop_otp_totp(apps, schema_editor):
    connection = schema_editor.connection
    if OLD_TABLE in connection.introspection.table_names():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(OLD_TABLE)}")
            if cursor.fetchone()[0]:
                raise RuntimeError(f"{OLD_TABLE} still has rows: run migration 0018 first")
            cursor.execute(f"DROP TABLE {connection.ops.quote_name(OLD_TABLE)}")
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.using(schema_editor.connection.alias).filter(
        app_label=OLD_APP).delete()  # their permissions go with them
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = %s", [OLD_APP])


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0023_customer_search_indexes_without_pending_list"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(drop_otp_totp, migrations.RunPython.noop),
    ]
