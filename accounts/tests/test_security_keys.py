"""Security keys: the list, removal, and what the login asks (the ceremonies themselves
run in Chromium: test_browser_security_keys.py)."""

import pytest

from accounts import services
from accounts.models import BackupCode, SecurityEvent, SecurityKey
from conftest import PASSWORD, give_second_factor, totp_code
from notifications.models import OutboundEmail

pytestmark = pytest.mark.django_db


def add_key(user, name="YubiKey"):
    return SecurityKey.objects.create(user=user, name=name, credential_id=f"cred-{name}",
                                      public_key=b"not used here")


def test_a_key_alone_makes_the_login_take_a_second_step(client, customer):
    add_key(customer)
    response = client.post("/login/", {"username": customer.nic_handle, "password": PASSWORD})
    assert response["Location"] == "/login/second-step/"
    page = client.get("/login/second-step/").content.decode()
    assert 'id="use-security-key"' in page and "js/webauthn.js" in page


def test_the_page_lists_the_keys_by_name(customer_client, customer):
    add_key(customer, "Keyring")
    page = customer_client.get("/account/security/keys/").content.decode()
    assert "Keyring" in page and "js/webauthn.js" in page
    assert "Keyring" in customer_client.get("/account/security/").content.decode()


def test_removing_the_last_key_turns_the_second_factor_off_logs_and_emails(customer_client,
                                                                           customer):
    key = add_key(customer)
    codes = services.backup_codes_regenerate(user=customer)
    response = customer_client.post(f"/account/security/keys/{key.pk}/remove/",
                                    {"password": PASSWORD, "code": codes[0]})
    assert response["Location"] == "/account/security/keys/"
    assert not services.second_factor_enabled(user=customer)
    assert not BackupCode.objects.filter(user=customer).exists()
    assert customer.security_events.filter(action=SecurityEvent.Action.SECOND_FACTOR_REMOVED,
                                           detail__name="YubiKey").exists()
    assert OutboundEmail.objects.filter(kind="second_factor_changed",
                                        subject__contains="security key was removed").exists()


def test_removing_one_key_of_several_keeps_the_rest(customer_client, customer):
    first, _second = add_key(customer, "One"), add_key(customer, "Two")
    device = give_second_factor(customer)
    customer_client.post(f"/account/security/keys/{first.pk}/remove/",
                         {"password": PASSWORD, "code": totp_code(device)})
    assert list(SecurityKey.objects.values_list("name", flat=True)) == ["Two"]


def test_another_customers_key_cannot_be_removed(customer_client, other_customer):
    key = add_key(other_customer)
    assert customer_client.post(f"/account/security/keys/{key.pk}/remove/").status_code == 404
    assert SecurityKey.objects.filter(pk=key.pk).exists()


def test_a_registration_without_a_valid_answer_is_refused(customer_client, customer):
    page = customer_client.post("/account/security/keys/", {
        "name": "Fake", "credential": '{"id": "x", "response": {}}'}).content.decode()
    assert "could not be registered" in page
    assert not SecurityKey.objects.exists()


def test_the_login_options_need_a_password_first(client):
    assert client.post("/login/second-step/key-options/").status_code == 404
