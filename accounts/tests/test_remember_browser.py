""""Remember this browser for 30 days" at the login's second step."""

import pytest
import time_machine
from django.test import Client

from accounts.proof import TRUSTED_BROWSER_COOKIE
from conftest import PASSWORD, give_second_factor, make_customer, totp_code

pytestmark = pytest.mark.django_db
NEW = "another-long-passphrase-88"


def log_in(client, user, password=PASSWORD):
    return client.post("/login/", {"username": user.nic_handle, "password": password})


def log_in_remembered(client, user, device):
    log_in(client, user)
    response = client.post("/login/second-step/", {"code": totp_code(device), "remember": "on"})
    client.post("/logout/")
    return response


def test_a_remembered_browser_skips_the_second_step_for_30_days(customer):
    device = give_second_factor(customer)
    client = Client()
    with time_machine.travel("2026-11-01 10:00:00 +0000", tick=False):
        response = log_in_remembered(client, customer, device)
        cookie = response.cookies[TRUSTED_BROWSER_COOKIE]
        assert cookie["httponly"] and cookie["max-age"] == 30 * 24 * 3600
    with time_machine.travel("2026-11-30 09:00:00 +0000", tick=False):
        assert log_in(client, customer)["Location"] == "/account/"
        client.post("/logout/")
    with time_machine.travel("2026-12-01 11:00:00 +0000", tick=False):
        assert log_in(client, customer)["Location"] == "/login/second-step/"


def test_without_the_box_ticked_the_next_login_asks_again(customer):
    device = give_second_factor(customer)
    client = Client()
    log_in(client, customer)
    client.post("/login/second-step/", {"code": totp_code(device)})
    client.post("/logout/")
    assert log_in(client, customer)["Location"] == "/login/second-step/"


def test_a_password_change_ends_it(customer):
    device = give_second_factor(customer)
    client = Client()
    log_in_remembered(client, customer, device)
    customer.set_password(NEW)
    customer.save()
    assert log_in(client, customer, NEW)["Location"] == "/login/second-step/"


def test_it_is_worth_nothing_for_another_account(customer):
    device = give_second_factor(customer)
    other = make_customer("olivia@example.net", first_name="Olivia", last_name="Other")
    give_second_factor(other)
    client = Client()
    log_in_remembered(client, customer, device)
    assert log_in(client, other)["Location"] == "/login/second-step/"


def test_a_remembered_browser_still_needs_the_password(customer):
    device = give_second_factor(customer)
    client = Client()
    log_in_remembered(client, customer, device)
    assert log_in(client, customer, "wrong-password").status_code == 200
    assert client.get("/account/").status_code == 302


def test_a_password_change_on_the_security_page_ends_it(customer):
    device = give_second_factor(customer)
    client = Client()
    log_in_remembered(client, customer, device)
    assert log_in(client, customer)["Location"] == "/account/"
    response = client.post("/account/security/", {
        "old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW})
    assert response["Location"] == "/account/security/"
    client.post("/logout/")
    assert log_in(client, customer, NEW)["Location"] == "/login/second-step/"


def test_staff_are_not_offered_it(support_agent):
    device = give_second_factor(support_agent)
    client = Client()
    log_in(client, support_agent)
    page = client.get("/login/second-step/").content.decode()
    assert "Remember this browser" not in page
    response = client.post("/login/second-step/", {"code": totp_code(device), "remember": "on"})
    assert response.status_code == 302
    assert TRUSTED_BROWSER_COOKIE not in response.cookies
    client.post("/logout/")
    assert log_in(client, support_agent)["Location"] == "/login/second-step/"


def test_a_customer_who_becomes_staff_gives_the_second_factor_again(customer):
    device = give_second_factor(customer)
    client = Client()
    log_in_remembered(client, customer, device)
    assert TRUSTED_BROWSER_COOKIE in client.cookies
    customer.is_staff = True
    customer.save()
    assert log_in(client, customer)["Location"] == "/login/second-step/"
    response = client.post("/admin/login/", {"username": customer.nic_handle,
                                             "password": PASSWORD})
    assert response["Location"] == "/login/second-step/"
    assert client.get("/admin/")["Location"] == "/admin/login/?next=/admin/"  # not logged in
