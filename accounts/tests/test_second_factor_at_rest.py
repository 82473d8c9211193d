"""What the database keeps of the second factor grants nothing by itself: the seed of the
authenticator app is sealed (accounts.models.AuthenticatorApp), backup codes are keyed
hashes, security keys are public keys. A key rotation (SECRET_KEY_FALLBACKS) keeps
all of them working; the data migration seals the seeds django-otp kept readable."""

import base64
import importlib
import io
import re
from binascii import hexlify
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import override_settings

from accounts import services
from accounts.models import AuthenticatorApp
from accounts.tests.soft_authenticator import SoftKey
from conftest import PASSWORD, prove_second_factor, totp_code
from notifications.secrets import UnreadableSecrets

pytestmark = pytest.mark.django_db
OLD_KEY, NEW_KEY = "old-secret-key-" + "x" * 40, "new-secret-key-" + "y" * 40


def database_dump() -> str:
    out = io.StringIO()
    call_command("dumpdata", stdout=out)
    return out.getvalue()


def seed_spellings(seed: bytes) -> set[str]:
    b32 = base64.b32encode(seed).decode()
    return {hexlify(seed).decode(), hexlify(seed).decode().upper(), b32, b32.rstrip("="),
            b32.lower().rstrip("="), base64.b64encode(seed).decode().rstrip("=")}


def enrol(client):
    prove_second_factor(client)
    page = client.get("/account/security/totp/").content.decode()
    shown = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    device = AuthenticatorApp.objects.get(confirmed=False)
    response = client.post("/account/security/totp/", {"code": totp_code(device)})
    codes = re.findall(r"<li class=\"col\">([a-z0-9]{5}-[a-z0-9]{5})</li>",
                       response.content.decode())
    assert len(codes) == 10
    return device, shown, codes


def test_after_enrolment_no_table_holds_the_seed_or_a_backup_code(customer_client, customer):
    device, shown, codes = enrol(customer_client)
    seed = device.bin_key
    assert base64.b32encode(seed).decode().rstrip("=") == shown
    SoftKey().register(customer)
    dump = database_dump()
    assert '"model": "accounts.authenticatorapp"' in dump
    assert not [spelling for spelling in seed_spellings(seed) | {shown} if spelling in dump]
    assert not [code for code in codes if code in dump or code.replace("-", "") in dump]
    # A security key's row holds its public key and id: what a login must also sign.
    assert '"model": "accounts.securitykey"' in dump


def test_the_sealed_seed_still_gives_the_codes(client, customer_client, customer):
    device, _shown, _codes = enrol(customer_client)
    customer_client.post("/logout/")
    client.post("/login/", {"username": customer.nic_handle, "password": PASSWORD})
    response = client.post("/login/second-step/", {"code": totp_code(device, offset=1)})
    assert response["Location"] == "/account/"


def test_a_rotated_secret_key_still_opens_seeds_and_backup_codes(customer):
    with override_settings(SECRET_KEY=OLD_KEY, SECRET_KEY_FALLBACKS=[]):
        device = services.totp_enrolment_start(user=customer)
        codes = services.totp_enrolment_confirm(user=customer, device=device,
                                                code=totp_code(device))
        seed = AuthenticatorApp.objects.get(pk=device.pk).bin_key
    with override_settings(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=[OLD_KEY]):
        stored = AuthenticatorApp.objects.get(pk=device.pk)
        assert stored.bin_key == seed
        assert services.second_factor_verify(user=customer, code=totp_code(stored, offset=1))
        assert services.second_factor_verify(user=customer, code=codes[0])
    with override_settings(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=[]):
        with pytest.raises(UnreadableSecrets):
            AuthenticatorApp.objects.get(pk=device.pk).bin_key


def test_the_data_migration_seals_the_seeds_django_otp_kept(customer):
    """A database from before: django-otp's table with a readable seed. The migration
    moves it into AuthenticatorApp sealed and empties the old table."""
    seed = bytes(range(20))
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE otp_totp_totpdevice (id integer PRIMARY KEY, user_id bigint NOT NULL,"
            " name varchar(64) NOT NULL, confirmed boolean NOT NULL, key varchar(80) NOT NULL,"
            " step smallint NOT NULL, t0 bigint NOT NULL, digits smallint NOT NULL,"
            " tolerance smallint NOT NULL, drift smallint NOT NULL, last_t bigint NOT NULL,"
            " throttling_failure_timestamp timestamp with time zone NULL,"
            " throttling_failure_count integer NOT NULL,"
            " created_at timestamp with time zone NULL,"
            " last_used_at timestamp with time zone NULL)")
        cursor.execute(
            "INSERT INTO otp_totp_totpdevice VALUES (1, %s, 'Phone', %s, %s, 30, 0, 6, 1, 0,"
            " -1, NULL, 0, NULL, NULL)", [customer.pk, True, hexlify(seed).decode()])
    migration = importlib.import_module("accounts.migrations.0018_seal_totp_seeds")
    from django.apps import apps

    # It only uses the editor's connection (SQLite opens no schema editor in a test).
    migration.seal_totp_seeds(apps, SimpleNamespace(connection=connection))
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM otp_totp_totpdevice")
        assert cursor.fetchone()[0] == 0
        cursor.execute("DROP TABLE otp_totp_totpdevice")
    device = AuthenticatorApp.objects.get(user=customer)
    assert device.name == "Phone" and device.confirmed and device.bin_key == seed
    assert hexlify(seed).decode() not in device.sealed_key
    assert services.second_factor_enabled(user=customer)
    assert services.second_factor_verify(user=customer, code=totp_code(device))


def test_the_emptied_django_otp_table_and_its_permissions_are_dropped(customer):
    from django.apps import apps
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE otp_totp_totpdevice (id integer PRIMARY KEY)")
        cursor.execute("INSERT INTO django_migrations (app, name, applied) "
                       "VALUES ('otp_totp', '0001_initial', CURRENT_TIMESTAMP)")
    old = ContentType.objects.create(app_label="otp_totp", model="totpdevice")
    Permission.objects.create(content_type=old, codename="view_totpdevice",
                              name="Can view TOTP device")
    migration = importlib.import_module("accounts.migrations.0024_drop_otp_totp_table")
    editor = SimpleNamespace(connection=connection)
    with connection.cursor() as cursor:  # a table that still holds a seed is left alone
        cursor.execute("INSERT INTO otp_totp_totpdevice VALUES (1)")
    with pytest.raises(RuntimeError):
        migration.drop_otp_totp(apps, editor)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM otp_totp_totpdevice")
    migration.drop_otp_totp(apps, editor)
    assert "otp_totp_totpdevice" not in connection.introspection.table_names()
    assert not ContentType.objects.filter(app_label="otp_totp").exists()
    assert not Permission.objects.filter(codename="view_totpdevice").exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM django_migrations WHERE app = 'otp_totp'")
        assert cursor.fetchone()[0] == 0
    migration.drop_otp_totp(apps, editor)  # nothing left: runs again harmlessly


def test_the_admin_shows_no_authenticator_seed(superuser_client, customer):
    """django-otp's own TOTP admin (seed and QR code) is gone with its app."""
    assert superuser_client.get("/admin/otp_totp/totpdevice/").status_code == 404


def test_a_fresh_client_cannot_read_the_seed_back_after_enrolment(customer_client):
    _device, shown, _codes = enrol(customer_client)
    page = customer_client.get("/account/security/").content.decode()
    assert shown not in page
    assert Client().get("/account/security/totp/")["Location"].startswith("/login/")
