"""The authenticator app (TOTP), the login's second step, backup codes, turning it off."""

import re

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.test import Client

from accounts import services
from accounts.models import AuthenticatorApp, BackupCode, SecurityEvent
from conftest import PASSWORD, give_second_factor, prove_second_factor, totp_code
from notifications.models import OutboundEmail

pytestmark = pytest.mark.django_db


def log_in(client, user, **extra):
    return client.post("/login/", {"username": user.nic_handle, "password": PASSWORD}, **extra)


def enrol(client):
    client.get("/account/security/totp/")
    device = AuthenticatorApp.objects.get(confirmed=False)
    return device, client.post("/account/security/totp/", {"code": totp_code(device)})


@pytest.fixture
def enrolled(customer):
    """A customer with an authenticator app and ten backup codes."""
    device = give_second_factor(customer)
    codes = services.backup_codes_regenerate(user=customer)
    OutboundEmail.objects.all().delete()
    SecurityEvent.objects.filter(user=customer).delete()
    return device, codes


# --- enrolment --------------------------------------------------------------------------

def test_enrolment_shows_a_local_qr_code_and_the_secret_as_text(customer_client):
    prove_second_factor(customer_client)
    page = customer_client.get("/account/security/totp/").content.decode()
    device = AuthenticatorApp.objects.get(confirmed=False)
    assert 'src="data:image/svg+xml' in page  # drawn here by segno, no outside service
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1)
    import base64
    assert base64.b32decode(secret.replace(" ", "") + "=" * (-len(secret.replace(" ", "")) % 8)) \
        == device.bin_key


def test_enrolment_is_not_done_until_a_first_valid_code(customer_client, customer):
    prove_second_factor(customer_client)
    customer_client.get("/account/security/totp/")
    response = customer_client.post("/account/security/totp/", {"code": "000000"})
    assert "This code is not valid" in response.content.decode()
    assert not services.second_factor_enabled(user=customer)


def test_a_first_valid_code_turns_it_on_shows_ten_backup_codes_once_logs_and_emails(
        customer_client, customer):
    prove_second_factor(customer_client)
    device, response = enrol(customer_client)
    page = response.content.decode()
    assert services.second_factor_enabled(user=customer)
    codes = re.findall(r"<li class=\"col\">([a-z0-9]{5}-[a-z0-9]{5})</li>", page)
    assert len(set(codes)) == 10
    assert response["Cache-Control"].startswith("max-age=0")
    stored = list(BackupCode.objects.filter(user=customer).values_list("code_hash", flat=True))
    assert len(stored) == 10 and not set(codes) & set(stored)  # only hashes are kept
    assert customer.security_events.filter(
        action=SecurityEvent.Action.SECOND_FACTOR_ADDED).exists()
    email = OutboundEmail.objects.get(kind="second_factor_changed")
    assert "turned on" in email.subject and email.to_address == customer.email
    assert not any(code in email.body_text for code in codes)
    again = customer_client.get("/account/security/").content.decode()
    assert "10 backup codes remain." in again
    assert not any(code in again for code in codes)


# --- login ------------------------------------------------------------------------------

def test_the_password_alone_no_longer_logs_in(client, customer, enrolled):
    response = log_in(client, customer)
    assert response["Location"] == "/login/second-step/"
    assert SESSION_KEY not in client.session
    assert client.get("/account/").status_code == 302


def test_a_code_of_the_app_completes_the_login(client, customer, enrolled,
                                               django_capture_on_commit_callbacks):
    device, _codes = enrolled
    log_in(client, customer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/login/second-step/", {"code": totp_code(device)})
    assert response["Location"] == "/account/"
    assert client.get("/account/").status_code == 200
    assert customer.security_events.filter(action=SecurityEvent.Action.LOGIN).exists()


def test_a_code_of_the_app_works_once(customer, enrolled):
    device, _codes = enrolled
    first, second = Client(), Client()
    code = totp_code(device)
    log_in(first, customer)
    log_in(second, customer)
    assert first.post("/login/second-step/", {"code": code}).status_code == 302
    assert "This code is not valid" in second.post("/login/second-step/",
                                                    {"code": code}).content.decode()


def test_a_code_of_the_app_follows_the_clock(client, customer, enrolled):
    device, _codes = enrolled
    with time_machine.travel("2026-11-30 10:00:00 +0000", tick=False):
        code = totp_code(device)
    with time_machine.travel("2026-11-30 10:05:00 +0000", tick=False):
        log_in(client, customer)
        assert "This code is not valid" in client.post(
            "/login/second-step/", {"code": code}).content.decode()
        assert client.post("/login/second-step/",
                           {"code": totp_code(device)}).status_code == 302


def test_the_second_step_expires_after_five_minutes(client, customer, enrolled):
    device, _codes = enrolled
    with time_machine.travel("2026-11-30 10:00:00 +0000", tick=False):
        log_in(client, customer)
    with time_machine.travel("2026-11-30 10:06:00 +0000", tick=False):
        response = client.post("/login/second-step/", {"code": totp_code(device)})
    assert response["Location"] == "/login/"
    assert SESSION_KEY not in client.session


def test_wrong_codes_are_throttled_and_the_page_says_how_long(client, customer, enrolled,
                                                              settings):
    device, _codes = enrolled
    with time_machine.travel("2026-11-30 10:00:10 +0000", tick=False):
        log_in(client, customer)
        for _ in range(settings.AXES_FAILURE_LIMIT):
            assert client.post("/login/second-step/", {"code": "000000"}).status_code == 200
        response = client.post("/login/second-step/", {"code": totp_code(device)})
        assert response.status_code == 429
        assert "please wait 15 minutes" in response.content.decode()
        assert SESSION_KEY not in client.session
        assert customer.security_events.filter(
            action=SecurityEvent.Action.SECOND_FACTOR_FAILED).count() == settings.AXES_FAILURE_LIMIT
    with time_machine.travel("2026-11-30 10:15:10 +0000", tick=False):
        log_in(client, customer)
        assert client.post("/login/second-step/", {"code": totp_code(device)}).status_code == 302


# --- backup codes -----------------------------------------------------------------------

def test_a_backup_code_logs_in_once_and_is_logged_and_emailed(customer, enrolled):
    _device, codes = enrolled
    first = Client()
    log_in(first, customer)
    assert first.post("/login/second-step/", {"code": codes[0].upper()}).status_code == 302
    assert customer.security_events.get(
        action=SecurityEvent.Action.BACKUP_CODE_USED).detail["remaining"] == 9
    email = OutboundEmail.objects.get(kind="second_factor_changed")
    assert "9 codes remain" in email.body_text
    second = Client()
    log_in(second, customer)
    assert "This code is not valid" in second.post(
        "/login/second-step/", {"code": codes[0]}).content.decode()
    assert SESSION_KEY not in second.session


def test_new_backup_codes_replace_the_old_ones(customer_client, customer, enrolled):
    _device, old = enrolled
    prove_second_factor(customer_client)
    assert "10 backup codes remain." in customer_client.get(
        "/account/security/backup-codes/").content.decode()
    page = customer_client.post("/account/security/backup-codes/").content.decode()
    new = re.findall(r"<li class=\"col\">([a-z0-9]{5}-[a-z0-9]{5})</li>", page)
    assert len(new) == 10 and not set(new) & set(old)
    assert customer.security_events.filter(
        action=SecurityEvent.Action.BACKUP_CODES_GENERATED).exists()
    assert "New backup codes" in OutboundEmail.objects.get(kind="second_factor_changed").subject
    client = Client()
    log_in(client, customer)
    assert "not valid" in client.post("/login/second-step/", {"code": old[1]}).content.decode()
    assert client.post("/login/second-step/", {"code": new[1]}).status_code == 302


# --- turning it off ---------------------------------------------------------------------

def test_turning_it_off_needs_the_password_and_a_code(customer_client, customer, enrolled):
    device, _codes = enrolled
    response = customer_client.post("/account/security/second-factor/off/",
                                    {"password": "wrong-password", "code": totp_code(device)})
    assert "Your password is not correct." in response.content.decode()
    response = customer_client.post("/account/security/second-factor/off/",
                                    {"password": PASSWORD, "code": "123456"})
    assert "This code is not valid" in response.content.decode()
    assert services.second_factor_enabled(user=customer)
    response = customer_client.post("/account/security/second-factor/off/",
                                    {"password": PASSWORD, "code": totp_code(device)})
    assert response["Location"] == "/account/security/"
    assert not services.second_factor_enabled(user=customer)
    assert not BackupCode.objects.filter(user=customer).exists()
    assert customer.security_events.filter(
        action=SecurityEvent.Action.SECOND_FACTOR_REMOVED).exists()
    assert "turned off" in OutboundEmail.objects.get(kind="second_factor_changed").subject
    client = Client()
    assert log_in(client, customer)["Location"] == "/account/"


def test_a_backup_code_also_turns_it_off(customer_client, customer, enrolled):
    _device, codes = enrolled
    customer_client.post("/account/security/second-factor/off/",
                         {"password": PASSWORD, "code": codes[3]})
    assert not services.second_factor_enabled(user=customer)


def test_the_security_notice_cannot_be_switched_off(customer, enrolled):
    from notifications.kinds import email_kind

    assert email_kind("second_factor_changed").security
    customer.login_notifications = False
    customer.save()
    services.backup_codes_regenerate(user=customer)
    assert OutboundEmail.objects.filter(kind="second_factor_changed").count() == 1


def test_a_visitor_is_sent_to_the_login_page(client):
    for path in ("/account/security/totp/", "/account/security/backup-codes/",
                 "/account/security/second-factor/off/"):
        assert client.get(path)["Location"].startswith("/login/")


def test_the_second_step_without_a_password_first_goes_back_to_the_login(client):
    assert client.get("/login/second-step/")["Location"] == "/login/"
