"""Authenticator apps enrolled before their seeds were sealed were rows of django-otp's
TOTPDevice (table otp_totp_totpdevice, its seed readable in hex). Each becomes an
AuthenticatorApp with the seed sealed, and the old row is deleted, so the seed is no
longer readable anywhere in the database. The old app is no longer installed: its table
is read with SQL when it exists (a database created after this never had it).

The seal is the one accounts.models.AuthenticatorApp opens (notifications.secrets, the
salt below): run this with the DJANGO_SECRET_KEY of the web processes."""

from binascii import unhexlify

from django.db import migrations

from notifications.secrets import bytes_seal

OLD_TABLE = "otp_totp_totpdevice"
TOTP_SEED_SALT = "accounts.totp-seed"  # accounts.models.second_factor.TOTP_SEED_SALT
COLUMNS = ("user_id", "name", "confirmed", "key", "step", "t0", "digits", "tolerance",
           "drift", "last_t", "created_at", "last_used_at")


def seal_totp_seeds(apps, schema_editor):
    connection = schema_editor.connection
    if OLD_TABLE not in connection.introspection.table_names():
        return
    AuthenticatorApp = apps.get_model("accounts", "AuthenticatorApp")
    table = connection.ops.quote_name(OLD_TABLE)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(connection.ops.quote_name(c) for c in COLUMNS)} "
                       f"FROM {table}")
        rows = [dict(zip(COLUMNS, row)) for row in cursor.fetchall()]
    for row in rows:
        key, created_at = row.pop("key"), row.pop("created_at")
        app = AuthenticatorApp.objects.create(
            sealed_key=bytes_seal(unhexlify(key.encode()), salt=TOTP_SEED_SALT), **row)
        # created_at is auto_now_add: the enrolment date is put back afterwards.
        AuthenticatorApp.objects.filter(pk=app.pk).update(created_at=created_at)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0017_authenticator_app"),
    ]

    operations = [
        migrations.RunPython(seal_totp_seeds, migrations.RunPython.noop),
    ]
