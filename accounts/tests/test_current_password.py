"""The current password asked on the email change and password change pages: wrong
answers are throttled per account like logins (accounts.passwords)."""

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client

from accounts.models import EmailChangeRequest, SecurityEvent
from conftest import PASSWORD, prove_password, run_at_once

pytestmark = pytest.mark.django_db
T0 = "2026-05-01 10:00:00Z"  # the start of a 15-minute window
WRONG = "not-my-password-1"
NEW = "another-long-passphrase-88"


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def change_email(client, password):
    return client.post("/account/email/", {"new_email": "new.address@example.com",
                                           "new_email2": "new.address@example.com",
                                           "password": password}).content.decode()


def change_password(client, password):
    return client.post("/account/security/", {"old_password": password, "new_password1": NEW,
                                              "new_password2": NEW}).content.decode()


WAIT = "Too many wrong passwords. For your security, please wait 15 minutes before trying again."


@time_machine.travel(T0, tick=False)
def test_after_eight_wrong_passwords_the_email_page_refuses_even_the_right_one(
    customer_client, customer
):
    for _ in range(8):
        assert "Your password is not correct." in change_email(customer_client, WRONG)
    page = change_email(customer_client, PASSWORD)
    assert WAIT in page
    assert not EmailChangeRequest.objects.exists()


@time_machine.travel(T0, tick=False)
def test_after_eight_wrong_passwords_the_security_page_refuses_even_the_right_one(
    customer_client, customer
):
    for _ in range(8):
        assert "Your old password was entered incorrectly" in change_password(customer_client, WRONG)
    assert WAIT in change_password(customer_client, PASSWORD)
    customer.refresh_from_db()
    assert customer.check_password(PASSWORD)


@time_machine.travel(T0, tick=False)
def test_both_pages_count_together_per_account(customer_client, customer, other_customer):
    for _ in range(4):
        change_email(customer_client, WRONG)
        change_password(customer_client, WRONG)
    assert WAIT in change_email(customer_client, PASSWORD)
    other = Client()
    other.force_login(other_customer)
    prove_password(other)
    assert "/account/email/" in other.post("/account/email/", {
        "new_email": "olivia.new@example.com", "new_email2": "olivia.new@example.com",
        "password": PASSWORD})["Location"]


def test_only_wrong_passwords_count(customer_client, customer):
    with time_machine.travel(T0, tick=False):
        for _ in range(7):
            change_email(customer_client, WRONG)
        assert customer_client.post("/account/email/", {
            "new_email": "new.address@example.com", "new_email2": "new.address@example.com",
            "password": PASSWORD}).status_code == 302
        assert "Your password is not correct." in change_email(customer_client, WRONG)
        assert WAIT in change_email(customer_client, PASSWORD)


def test_the_cool_off_ends_by_itself(customer_client, customer):
    with time_machine.travel(T0, tick=False):
        for _ in range(8):
            change_password(customer_client, WRONG)
        assert WAIT in change_password(customer_client, PASSWORD)
    with time_machine.travel("2026-05-01 10:14:59Z", tick=False):
        assert "please wait 1 minute" in change_password(customer_client, PASSWORD)
    with time_machine.travel("2026-05-01 10:15:00Z", tick=False):
        assert customer_client.post("/account/security/", {
            "old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW,
        }).status_code == 302
    customer.refresh_from_db()
    assert customer.check_password(NEW)


def test_the_wait_is_the_time_left_in_minutes(customer_client):
    with time_machine.travel(T0, tick=False):
        for _ in range(8):
            change_email(customer_client, WRONG)
    with time_machine.travel("2026-05-01 10:13:30Z", tick=False):
        assert "please wait 2 minutes before trying again" in change_email(customer_client, PASSWORD)
    with time_machine.travel("2026-05-01 10:14:30Z", tick=False):
        assert "please wait 1 minute before trying again" in change_email(customer_client, PASSWORD)


def test_wrong_passwords_are_in_the_security_log(customer_client, customer):
    change_email(customer_client, WRONG)
    change_password(customer_client, WRONG)
    change_email(customer_client, PASSWORD)
    failures = customer.security_events.filter(action=SecurityEvent.Action.LOGIN_FAILED)
    assert sorted(event.detail["where"] for event in failures) == ["email_change",
                                                                   "password_change"]
    assert all(event.ip_address == "127.0.0.1" for event in failures)
    assert PASSWORD not in str(list(failures.values_list("detail", flat=True)))


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_wrong_passwords_sent_at_once_are_still_checked_eight_times_at_most(postgres, customer):
    browsers = []
    for _ in range(20):
        browser = Client()
        browser.force_login(customer)
        prove_password(browser)
        browsers.append(browser)

    pages, errors = run_at_once(lambda n: change_password(browsers[n], f"guess-{n}"), 20)

    assert errors == []
    assert sum("Your old password was entered incorrectly" in page for page in pages) == 8
    assert sum("Too many wrong passwords" in page for page in pages) == 12
    assert customer.security_events.filter(action=SecurityEvent.Action.LOGIN_FAILED).count() == 8
