"""Every enrolment, removal, backup-code use and regeneration of the second factor is
written to the security log and emailed to the customer as a security notice, which
no switch turns off (notifications.kinds: security=True). The security keys are
registered through the page with a software key (soft_authenticator)."""

import json
import re

import pytest
from django.test import Client

from accounts.models import AuthenticatorApp, SecurityEvent, SecurityKey
from accounts.tests.soft_authenticator import SoftKey
from conftest import PASSWORD, prove_second_factor, totp_code
from notifications.kinds import email_kind
from notifications.models import OutboundEmail

pytestmark = pytest.mark.django_db
CODES = re.compile(r"<li class=\"col\">([a-z0-9]{5}-[a-z0-9]{5})</li>")


def register_key(client, soft, name):
    options = json.loads(client.post("/account/security/keys/options/").content)
    return client.post("/account/security/keys/", {
        "name": name, "credential": soft.attestation(options["challenge"])})


def key_answer(client, path, soft):
    options = json.loads(client.post(f"{path}?key-options=1").content)
    return client.post(path, {"password": PASSWORD,
                              "credential": soft.assertion(options["challenge"])})


def subjects():
    return [email.subject for email in OutboundEmail.objects.filter(
        kind="second_factor_changed").order_by("pk")]


def test_each_change_is_logged_and_emailed_even_with_every_switch_off(customer_client,
                                                                      customer):
    assert email_kind("second_factor_changed").security
    assert not email_kind("second_factor_changed").switch
    customer.login_notifications = False
    customer.save()
    prove_second_factor(customer_client)
    nic = customer.nic_handle

    customer_client.get("/account/security/totp/")
    device = AuthenticatorApp.objects.get(user=customer)
    first_codes = CODES.findall(customer_client.post(
        "/account/security/totp/", {"code": totp_code(device)}).content.decode())
    assert len(first_codes) == 10

    laptop, phone = SoftKey(), SoftKey()
    assert register_key(customer_client, laptop, "Laptop")["Location"] == "/account/security/keys/"
    register_key(customer_client, phone, "Phone")
    assert sorted(SecurityKey.objects.filter(user=customer).values_list("name", flat=True)) \
        == ["Laptop", "Phone"]

    codes = CODES.findall(customer_client.post("/account/security/backup-codes/")
                          .content.decode())
    other = Client()
    other.post("/login/", {"username": nic, "password": PASSWORD})
    assert other.post("/login/second-step/", {"code": codes[0]})["Location"] == "/account/"

    laptop_key = SecurityKey.objects.get(name="Laptop")
    key_answer(customer_client, f"/account/security/keys/{laptop_key.pk}/remove/", phone)
    key_answer(customer_client, "/account/security/totp/remove/", phone)
    customer_client.post("/account/security/second-factor/off/",
                         {"password": PASSWORD, "code": codes[1]})
    assert not SecurityKey.objects.filter(user=customer).exists()

    assert subjects() == [
        f"Two-step verification turned on for {nic}",
        f"A security key was added to {nic}",
        f"A security key was added to {nic}",
        f"New backup codes for {nic}",
        f"A backup code of {nic} was used",
        f"A security key was removed from {nic}",
        f"The authenticator app was removed from {nic}",
        f"A backup code of {nic} was used",
        f"Two-step verification turned off for {nic}",
    ]
    assert set(OutboundEmail.objects.filter(kind="second_factor_changed")
               .values_list("to_address", flat=True)) == {customer.email}
    assert not OutboundEmail.objects.filter(kind="login_notification").exists()
    Action = SecurityEvent.Action
    logged = list(customer.security_events.filter(action__in=[
        Action.SECOND_FACTOR_ADDED, Action.SECOND_FACTOR_REMOVED, Action.BACKUP_CODES_GENERATED,
        Action.BACKUP_CODE_USED]).order_by("pk").values_list("action", flat=True))
    assert logged == [Action.SECOND_FACTOR_ADDED, Action.SECOND_FACTOR_ADDED,
                      Action.SECOND_FACTOR_ADDED, Action.BACKUP_CODES_GENERATED,
                      Action.BACKUP_CODE_USED, Action.SECOND_FACTOR_REMOVED,
                      Action.SECOND_FACTOR_REMOVED, Action.BACKUP_CODE_USED,
                      Action.SECOND_FACTOR_REMOVED]


def test_a_key_registered_through_the_page_confirms_the_login(client, customer):
    soft = SoftKey()
    client.force_login(customer)
    prove_second_factor(client)
    register_key(client, soft, "Laptop")
    client.post("/logout/")
    client.post("/login/", {"username": customer.nic_handle, "password": PASSWORD})
    options = json.loads(client.post("/login/second-step/key-options/").content)
    response = client.post("/login/second-step/", {"credential": soft.assertion(
        options["challenge"])})
    assert response["Location"] == "/account/"
    assert SecurityKey.objects.get(user=customer).last_used_at is not None
