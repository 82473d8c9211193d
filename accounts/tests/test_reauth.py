"""Re-authentication: changing the primary email, the password or the second factor, or
viewing backup codes, asks for the password (and a code when the account has a second
factor) when the last proof is older than 5 minutes."""

import pytest
import time_machine
from django.test import Client

from conftest import PASSWORD, give_second_factor, totp_code

pytestmark = pytest.mark.django_db

LOGIN_TIME = "2026-11-30 10:00:00 +0000"
FOUR_MINUTES_LATER = "2026-11-30 10:04:00 +0000"
SIX_MINUTES_LATER = "2026-11-30 10:06:00 +0000"
NEW = "another-long-passphrase-88"


def logged_in(customer, device=None):
    client = Client()
    with time_machine.travel(LOGIN_TIME, tick=False):
        client.post("/login/", {"username": customer.nic_handle, "password": PASSWORD})
        if device is not None:
            client.post("/login/second-step/", {"code": totp_code(device)})
    return client


@pytest.mark.parametrize("path", ["/account/email/", "/account/security/totp/",
                                  "/account/security/keys/"])
def test_a_recent_login_opens_sensitive_pages_at_once(customer, path):
    client = logged_in(customer)
    with time_machine.travel(FOUR_MINUTES_LATER, tick=False):
        assert client.get(path).status_code == 200


@pytest.mark.parametrize("path", ["/account/email/", "/account/security/totp/",
                                  "/account/security/keys/"])
def test_after_five_minutes_they_ask_for_the_password_again(customer, path):
    client = logged_in(customer)
    with time_machine.travel(SIX_MINUTES_LATER, tick=False):
        response = client.get(path)
        assert response["Location"] == f"/account/reauth/?next={path.replace('/', '%2F')}"
        page = client.get(response["Location"]).content.decode()
        assert 'name="password"' in page and 'name="code"' not in page
        wrong = client.post("/account/reauth/", {"password": "wrong", "next": path})
        assert "Your password is not correct." in wrong.content.decode()
        right = client.post("/account/reauth/", {"password": PASSWORD, "next": path})
        assert right["Location"] == path
        assert client.get(path).status_code == 200


def test_with_a_second_factor_they_also_ask_for_a_code(customer):
    device = give_second_factor(customer)
    client = logged_in(customer, device)
    with time_machine.travel(FOUR_MINUTES_LATER, tick=False):
        assert client.get("/account/security/backup-codes/").status_code == 200
    with time_machine.travel(SIX_MINUTES_LATER, tick=False):
        assert client.get("/account/security/backup-codes/")["Location"].startswith(
            "/account/reauth/")
        response = client.post("/account/reauth/", {"password": PASSWORD, "code": "000000",
                                                    "next": "/account/security/backup-codes/"})
        assert "This code is not valid" in response.content.decode()
        response = client.post("/account/reauth/", {"password": PASSWORD,
                                                    "code": totp_code(device),
                                                    "next": "/account/security/backup-codes/"})
        assert response["Location"] == "/account/security/backup-codes/"
        assert client.get("/account/security/backup-codes/").status_code == 200


def test_a_late_password_change_is_not_made_until_confirmed(customer):
    client = logged_in(customer)
    with time_machine.travel(SIX_MINUTES_LATER, tick=False):
        assert client.get("/account/security/").status_code == 200  # the page still shows
        response = client.post("/account/security/", {"old_password": PASSWORD,
                                                      "new_password1": NEW,
                                                      "new_password2": NEW})
        assert response["Location"] == "/account/reauth/?next=%2Faccount%2Fsecurity%2F"
        customer.refresh_from_db()
        assert customer.check_password(PASSWORD)
        client.post("/account/reauth/", {"password": PASSWORD, "next": "/account/security/"})
        client.post("/account/security/", {"old_password": PASSWORD, "new_password1": NEW,
                                           "new_password2": NEW})
        customer.refresh_from_db()
        assert customer.check_password(NEW)


def test_the_reauth_page_never_sends_to_another_site(customer):
    client = logged_in(customer)
    with time_machine.travel(FOUR_MINUTES_LATER, tick=False):
        response = client.post("/account/reauth/", {"password": PASSWORD,
                                                    "next": "https://evil.example/"})
    assert response["Location"] == "/account/security/"


def test_wrong_passwords_on_the_reauth_page_are_throttled(customer, settings):
    client = logged_in(customer)
    with time_machine.travel(FOUR_MINUTES_LATER, tick=False):
        for _ in range(settings.AXES_FAILURE_LIMIT):
            client.post("/account/reauth/", {"password": "wrong"})
        page = client.post("/account/reauth/", {"password": PASSWORD}).content.decode()
    assert "Too many wrong passwords" in page


def test_with_a_security_key_its_answer_confirms_it(customer):
    import json

    from accounts.tests.soft_authenticator import SoftKey

    soft = SoftKey()
    soft.register(customer)
    client = Client()
    with time_machine.travel(LOGIN_TIME, tick=False):
        client.post("/login/", {"username": customer.nic_handle, "password": PASSWORD})
        options = json.loads(client.post("/login/second-step/key-options/").content)
        client.post("/login/second-step/", {"credential": soft.assertion(options["challenge"])})
    with time_machine.travel(SIX_MINUTES_LATER, tick=False):
        path = "/account/security/keys/"
        assert client.get(path)["Location"].startswith("/account/reauth/")
        page = client.get(f"/account/reauth/?next={path}").content.decode()
        assert 'id="reauth-security-key"' in page
        response = client.post("/account/reauth/", {"password": PASSWORD, "next": path})
        assert "Enter a code, or confirm with your security key." in response.content.decode()
        options = json.loads(client.post("/login/second-step/key-options/").content)
        response = client.post("/account/reauth/", {
            "password": PASSWORD, "next": path, "credential": soft.assertion(options["challenge"])})
        assert response["Location"] == path
        assert client.get(path).status_code == 200
