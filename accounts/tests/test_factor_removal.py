"""Removing a factor (the authenticator app, a security key, or all of them) takes, in
the same step, the current password and a fresh proof from a factor that stays, or,
for the last factor, from that factor or a backup code (accounts.services.factor_removal).
Security keys answer here with a software key (soft_authenticator) verified for real by
py_webauthn; test_browser_security_keys.py does it with Chromium's authenticator."""

import json

import pytest

from accounts import services
from accounts.models import AuthenticatorApp, BackupCode, SecurityEvent, SecurityKey
from accounts.tests.soft_authenticator import ORIGIN, RP_ID, SoftKey
from conftest import PASSWORD, give_second_factor, totp_code
from notifications.models import OutboundEmail

pytestmark = pytest.mark.django_db

OFF = "/account/security/second-factor/off/"
APP = "/account/security/totp/remove/"


def key_path(key):
    return f"/account/security/keys/{key.pk}/remove/"


def codes_for(user):
    codes = services.backup_codes_regenerate(user=user)
    OutboundEmail.objects.all().delete()
    return codes


def options(client, path):
    """What the page's "Confirm with my security key" asks the server: the challenge
    and the keys allowed to answer it."""
    response = client.post(f"{path}?key-options=1")
    assert response["Content-Type"] == "application/json"
    data = json.loads(response.content)
    return data["challenge"], {item["id"] for item in data.get("allowCredentials", [])}


def with_key(client, path, soft_key, password=PASSWORD):
    challenge, _allowed = options(client, path)
    return client.post(path, {"password": password, "credential": soft_key.assertion(challenge)})


def proof_by_key(soft_key, challenge="Y2hhbGxlbmdlLWNoYWxsZW5nZQ"):
    """An answer to `challenge`, as the view hands it to the service."""
    return services.FactorProof(credential=soft_key.assertion(challenge), challenge=challenge,
                                rp_id=RP_ID, origin=ORIGIN)


def error_text(response):
    return response.content.decode()


# --- an account with the authenticator app only -------------------------------------------

def test_app_only_removing_the_app_takes_its_code_and_turns_it_all_off(customer_client,
                                                                        customer):
    device = give_second_factor(customer)
    codes_for(customer)
    response = customer_client.post(APP, {"password": PASSWORD, "code": totp_code(device)})
    assert response["Location"] == "/account/security/"
    assert not services.second_factor_enabled(user=customer)
    assert not BackupCode.objects.filter(user=customer).exists()
    assert "turned off" in OutboundEmail.objects.get(kind="second_factor_changed").subject


@pytest.mark.parametrize("path", [APP, OFF])
def test_app_only_a_wrong_code_or_no_code_or_a_wrong_password_removes_nothing(
        customer_client, customer, path):
    device = give_second_factor(customer)
    codes_for(customer)
    assert "This code is not valid" in error_text(
        customer_client.post(path, {"password": PASSWORD, "code": "123456"}))
    assert "This field is required" in error_text(
        customer_client.post(path, {"password": PASSWORD, "code": ""}))
    assert "Your password is not correct." in error_text(
        customer_client.post(path, {"password": "wrong-password", "code": totp_code(device)}))
    assert "This field is required" in error_text(
        customer_client.post(path, {"code": totp_code(device)}))
    assert AuthenticatorApp.objects.filter(user=customer).exists()
    assert BackupCode.objects.filter(user=customer).count() == 10
    assert not OutboundEmail.objects.filter(kind="second_factor_changed").exists()


def test_app_only_a_backup_code_removes_the_app(customer_client, customer):
    give_second_factor(customer)
    codes = codes_for(customer)
    customer_client.post(APP, {"password": PASSWORD, "code": codes[0]})
    assert not services.second_factor_enabled(user=customer)


# --- an account with a security key only --------------------------------------------------

def test_key_only_the_recent_login_alone_no_longer_removes_the_key(customer_client, customer):
    """The gap this closes: a fresh session (re-authenticated) removed the key with one
    click."""
    key = SoftKey().register(customer)
    codes_for(customer)
    response = customer_client.post(key_path(key))
    assert response.status_code == 200
    assert SecurityKey.objects.filter(pk=key.pk).exists()
    response = customer_client.post(key_path(key), {"password": PASSWORD})
    assert "Enter a code, or confirm with your security key." in error_text(response)
    assert SecurityKey.objects.filter(pk=key.pk).exists()
    assert services.second_factor_enabled(user=customer)


def test_key_only_its_own_assertion_and_the_password_remove_it(customer_client, customer):
    soft = SoftKey()
    key = soft.register(customer, "Keyring")
    codes_for(customer)
    challenge, allowed = options(customer_client, key_path(key))
    assert allowed == {key.credential_id}
    response = customer_client.post(key_path(key), {"password": PASSWORD,
                                                    "credential": soft.assertion(challenge)})
    assert response["Location"] == "/account/security/keys/"
    assert not services.second_factor_enabled(user=customer)
    assert not BackupCode.objects.filter(user=customer).exists()
    assert customer.security_events.filter(action=SecurityEvent.Action.SECOND_FACTOR_REMOVED,
                                           detail__name="Keyring").exists()
    assert "security key was removed" in OutboundEmail.objects.get(
        kind="second_factor_changed").subject


def test_key_only_its_assertion_without_the_password_removes_nothing(customer_client,
                                                                     customer):
    soft = SoftKey()
    key = soft.register(customer)
    response = with_key(customer_client, key_path(key), soft, password="wrong-password")
    assert "Your password is not correct." in error_text(response)
    assert SecurityKey.objects.filter(pk=key.pk).exists()


def test_key_only_a_backup_code_removes_it(customer_client, customer):
    key = SoftKey().register(customer)
    codes = codes_for(customer)
    customer_client.post(key_path(key), {"password": PASSWORD, "code": codes[4]})
    assert not SecurityKey.objects.filter(pk=key.pk).exists()


def test_key_only_an_answer_to_another_challenge_or_a_wrong_code_removes_nothing(
        customer_client, customer):
    soft = SoftKey()
    key = soft.register(customer)
    codes_for(customer)
    options(customer_client, key_path(key))
    response = customer_client.post(key_path(key), {
        "password": PASSWORD, "credential": soft.assertion("b3RoZXItY2hhbGxlbmdl")})
    assert "This code is not valid" in error_text(response)
    assert "This code is not valid" in error_text(
        customer_client.post(key_path(key), {"password": PASSWORD, "code": "abcde-fghjk"}))
    assert SecurityKey.objects.filter(pk=key.pk).exists()
    assert customer.security_events.filter(
        action=SecurityEvent.Action.SECOND_FACTOR_FAILED).count() == 2


def test_key_only_turning_it_off_takes_the_key(customer_client, customer):
    soft = SoftKey()
    soft.register(customer)
    codes_for(customer)
    response = with_key(customer_client, OFF, soft)
    assert response["Location"] == "/account/security/"
    assert not services.second_factor_enabled(user=customer)
    assert not BackupCode.objects.filter(user=customer).exists()


def test_key_only_the_removal_at_service_level_needs_a_proof(customer):
    soft = SoftKey()
    key = soft.register(customer)
    with pytest.raises(services.WrongSecondFactorCode):
        services.security_key_remove(user=customer, key_id=key.pk, proof=services.FactorProof())
    assert SecurityKey.objects.filter(pk=key.pk).exists()
    assert services.security_key_remove(user=customer, key_id=key.pk, proof=proof_by_key(soft))
    assert not SecurityKey.objects.exists()


# --- an account with the authenticator app and a security key ----------------------------

def test_app_and_key_the_key_goes_with_a_code_of_the_app(customer_client, customer):
    device = give_second_factor(customer)
    key = SoftKey().register(customer)
    codes_for(customer)
    response = customer_client.post(key_path(key), {"password": PASSWORD,
                                                    "code": totp_code(device)})
    assert response["Location"] == "/account/security/keys/"
    assert not SecurityKey.objects.exists()
    assert services.second_factor_enabled(user=customer)
    assert BackupCode.objects.filter(user=customer).count() == 10


def test_app_and_key_the_key_cannot_vouch_for_its_own_removal(customer_client, customer):
    give_second_factor(customer)
    soft = SoftKey()
    key = soft.register(customer)
    _challenge, allowed = options(customer_client, key_path(key))
    assert allowed == set()  # no other key: the app's code or a backup code
    with pytest.raises(services.WrongSecondFactorCode):
        services.security_key_remove(user=customer, key_id=key.pk, proof=proof_by_key(soft))
    assert SecurityKey.objects.filter(pk=key.pk).exists()


def test_app_and_key_the_app_goes_with_the_key_not_with_its_own_code(customer_client,
                                                                     customer):
    device = give_second_factor(customer)
    soft = SoftKey()
    soft.register(customer)
    codes_for(customer)
    page = customer_client.get(APP).content.decode()
    assert 'id="confirm-with-security-key"' in page and "One of your backup codes." in page
    response = customer_client.post(APP, {"password": PASSWORD, "code": totp_code(device)})
    assert "This code is not valid" in error_text(response)
    assert AuthenticatorApp.objects.filter(user=customer).exists()
    response = with_key(customer_client, APP, soft)
    assert response["Location"] == "/account/security/"
    assert not AuthenticatorApp.objects.filter(user=customer).exists()
    assert services.second_factor_enabled(user=customer)  # the key stays
    assert BackupCode.objects.filter(user=customer).count() == 10
    assert customer.security_events.filter(action=SecurityEvent.Action.SECOND_FACTOR_REMOVED,
                                           detail__factor="totp").exists()
    assert "authenticator app was removed" in OutboundEmail.objects.get(
        kind="second_factor_changed").subject


def test_app_and_key_a_backup_code_removes_the_app(customer_client, customer):
    give_second_factor(customer)
    SoftKey().register(customer)
    codes = codes_for(customer)
    customer_client.post(APP, {"password": PASSWORD, "code": codes[2]})
    assert not AuthenticatorApp.objects.filter(user=customer).exists()


def test_app_and_key_turning_it_off_takes_either(customer_client, customer):
    device = give_second_factor(customer)
    soft = SoftKey()
    soft.register(customer)
    customer_client.post(OFF, {"password": PASSWORD})  # no code: nothing happens
    assert services.second_factor_enabled(user=customer)
    customer_client.post(OFF, {"password": PASSWORD, "code": totp_code(device)})
    assert not services.second_factor_enabled(user=customer)
    assert not SecurityKey.objects.exists()


def test_two_keys_one_goes_with_the_other(customer_client, customer):
    first, second = SoftKey(), SoftKey()
    first_key, second_key = first.register(customer, "One"), second.register(customer, "Two")
    _challenge, allowed = options(customer_client, key_path(first_key))
    assert allowed == {second_key.credential_id}
    assert "This code is not valid" in error_text(with_key(customer_client,
                                                           key_path(first_key), first))
    with_key(customer_client, key_path(first_key), second)
    assert list(SecurityKey.objects.values_list("name", flat=True)) == ["Two"]


# --- who may, and how often ----------------------------------------------------------------

def test_another_customers_key_cannot_be_removed_or_even_seen(customer_client, other_customer):
    key = SoftKey().register(other_customer, "Theirs")
    assert customer_client.get(key_path(key)).status_code == 404
    assert customer_client.post(key_path(key), {"password": PASSWORD}).status_code == 404
    assert SecurityKey.objects.filter(pk=key.pk).exists()


def test_a_visitor_is_sent_to_the_login_page(client, customer):
    key = SoftKey().register(customer)
    for path in (APP, OFF, key_path(key)):
        assert client.post(path)["Location"].startswith("/login/")
    assert SecurityKey.objects.filter(pk=key.pk).exists()


def test_wrong_codes_on_a_removal_are_throttled_and_the_page_says_how_long(
        customer_client, customer, settings):
    device = give_second_factor(customer)
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        customer_client.post(APP, {"password": PASSWORD, "code": "000000"})
    response = customer_client.post(APP, {"password": PASSWORD, "code": totp_code(device)})
    assert response.status_code == 429
    assert "Too many wrong codes" in error_text(response) and "minute" in error_text(response)
    assert AuthenticatorApp.objects.filter(user=customer).exists()


def test_the_page_says_which_proof_it_takes(customer_client, customer):
    give_second_factor(customer)
    key = SoftKey().register(customer)
    assert "the one you remove cannot vouch for itself" in customer_client.get(
        key_path(key)).content.decode()
    AuthenticatorApp.objects.filter(user=customer).delete()
    page = customer_client.get(key_path(key)).content.decode()
    assert "It is your last way to confirm a login" in page
    assert "The 6-digit code" not in page and "One of your backup codes." in page


def test_the_security_log_names_the_factor_added_or_removed(customer_client, customer):
    Action = SecurityEvent.Action
    for action, detail in ((Action.SECOND_FACTOR_ADDED, {"factor": "totp"}),
                           (Action.SECOND_FACTOR_ADDED, {"factor": "security_key",
                                                         "name": "Keyring"}),
                           (Action.SECOND_FACTOR_REMOVED, {"factor": "totp"}),
                           (Action.SECOND_FACTOR_REMOVED, {"factor": "security_key"}),
                           (Action.SECOND_FACTOR_REMOVED, {"reason": "recovery"})):
        SecurityEvent.objects.create(user=customer, action=action, detail=detail)
    page = customer_client.get("/account/security/").content.decode()
    log = page[page.index('id="security-log"'):]
    for label in ("Authenticator app added", "Security key added", "Authenticator app removed",
                  "Security key removed", "Two-step verification turned off"):
        assert log.count(label) == 1, label
    assert "Two-step verification turned on" not in log
