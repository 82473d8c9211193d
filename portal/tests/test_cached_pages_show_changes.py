"""The lists drawn once for their data ({% fragment_cache %}) and the security page's parts
kept under the account's security_version show every change on the very next request,
with the cache on as in production."""

import re

import pytest

from accounts import services as account_services
from accounts.models import SecurityEvent
from accounts.security import security_log
from accounts.services.second_factor import backup_codes_regenerate, second_factor_verify
from notifications.models import OutboundEmail
from notifications.tests.test_email_history import make_email

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def cache_on(settings):
    settings.FRAGMENT_CACHE_SECONDS = 3600
    settings.INVOICE_LIST_CACHE_SECONDS = 3600


def backup_count(page):
    return int(re.search(r'id="backup-codes-count">(\d+)', page).group(1))


def test_the_security_log_shows_a_new_line_at_once(customer_client, customer):
    assert "Email address changed" not in customer_client.get("/account/security/").content.decode()
    security_log(user=customer, action=SecurityEvent.Action.EMAIL_CHANGED, ip_address="192.0.2.9")
    page = customer_client.get("/account/security/").content.decode()
    assert "192.0.2.9" in page


def test_the_backup_code_count_follows_each_code_used(customer_client, customer):
    from conftest import give_second_factor

    give_second_factor(customer)
    codes = backup_codes_regenerate(user=customer)
    assert backup_count(customer_client.get("/account/security/").content.decode()) == 10
    second_factor_verify(user=customer, code=codes[0])
    assert backup_count(customer_client.get("/account/security/").content.decode()) == 9


def test_turning_the_second_factor_off_shows_at_once(customer_client, customer):
    from conftest import give_second_factor

    give_second_factor(customer)
    assert 'id="totp-remove-link"' in customer_client.get("/account/security/").content.decode()
    account_services.second_factor_remove(user=customer, notify=False)
    page = customer_client.get("/account/security/").content.decode()
    assert 'id="totp-remove-link"' not in page and 'id="totp-enrol-link"' in page


def test_another_customers_security_page_is_never_served_from_the_cache(
        customer_client, customer, other_customer, client):
    security_log(user=customer, action=SecurityEvent.Action.EMAIL_CHANGED, ip_address="192.0.2.9")
    assert "192.0.2.9" in customer_client.get("/account/security/").content.decode()
    client.force_login(other_customer)
    assert "192.0.2.9" not in client.get("/account/security/").content.decode()


def test_the_email_history_shows_a_status_change_at_once(customer_client, customer):
    email = make_email(customer, "Your invoice", status=OutboundEmail.Status.QUEUED)
    assert "Queued" in customer_client.get("/account/emails/").content.decode()
    OutboundEmail.objects.filter(pk=email.pk).update(status=OutboundEmail.Status.SENT)
    page = customer_client.get("/account/emails/").content.decode()
    assert "Sent" in page and "Queued" not in page
