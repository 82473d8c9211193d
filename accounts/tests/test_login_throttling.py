import pytest
import time_machine
from django.contrib.auth import SESSION_KEY

from conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def limit(settings):
    return settings.AXES_FAILURE_LIMIT


def fail(client, username, ip="198.51.100.7"):
    return client.post("/login/", {"username": username, "password": "wrong-password"},
                       REMOTE_ADDR=ip)


def test_repeated_failures_pause_logins_and_say_how_long(client, customer, limit):
    for _ in range(limit - 1):
        assert fail(client, customer.nic_handle).status_code == 200
    response = fail(client, customer.nic_handle)
    assert response.status_code == 429
    assert "Please wait 15 minutes before trying again." in response.content.decode()
    good = client.post("/login/", {"username": customer.nic_handle, "password": PASSWORD},
                       REMOTE_ADDR="198.51.100.7")
    assert good.status_code == 429
    assert SESSION_KEY not in client.session


def test_nic_handle_and_email_in_any_case_count_as_one_account(client, customer, limit):
    logins = [customer.nic_handle, customer.nic_handle.upper(), customer.email.upper()]
    for n in range(limit):
        fail(client, logins[n % 3], ip=f"198.51.100.{n + 1}")
    response = client.post("/login/", {"username": customer.email, "password": PASSWORD},
                           REMOTE_ADDR="203.0.113.50")
    assert response.status_code == 429


def test_the_cool_off_ends_by_itself(client, customer, limit):
    with time_machine.travel("2026-03-01 10:00:00Z"):
        for _ in range(limit):
            fail(client, customer.nic_handle)
    with time_machine.travel("2026-03-01 10:16:00Z"):
        response = client.post("/login/", {"username": customer.nic_handle,
                                           "password": PASSWORD}, REMOTE_ADDR="198.51.100.7")
        assert response.status_code == 302
        assert client.session[SESSION_KEY] == str(customer.pk)


def test_one_ip_trying_many_accounts_is_paused(client, customer, limit):
    for n in range(limit):
        fail(client, f"zz{n:06d}-OVH", ip="192.0.2.99")
    response = client.post("/login/", {"username": customer.nic_handle, "password": PASSWORD},
                           REMOTE_ADDR="192.0.2.99")
    assert response.status_code == 429


def test_an_unknown_account_is_paused_like_a_real_one(client, limit):
    for _ in range(limit - 1):
        fail(client, "ab123456-OVH", ip="192.0.2.10")
    assert fail(client, "ab123456-OVH", ip="192.0.2.10").status_code == 429


def test_a_success_clears_the_failures(client, customer, limit):
    for _ in range(limit - 1):
        fail(client, customer.nic_handle)
    client.post("/login/", {"username": customer.nic_handle, "password": PASSWORD},
                REMOTE_ADDR="198.51.100.7")
    client.post("/logout/")
    assert fail(client, customer.nic_handle).status_code == 200
