from datetime import datetime
from datetime import timezone as dt_timezone

import pytest
import time_machine
from django.core import mail

from accounts.models import SecurityEvent
from conftest import PASSWORD
from notifications.models import OutboundEmail
from portal.requestinfo import browser_and_system

pytestmark = pytest.mark.django_db

FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
LOGIN_TIME = datetime(2026, 11, 27, 17, 5, tzinfo=dt_timezone.utc)


@pytest.fixture
def login(client, django_capture_on_commit_callbacks):
    """Log in through the form; the emails queued on commit are delivered (eager Celery)."""

    def log_in(user, password=PASSWORD, **meta):
        meta.setdefault("REMOTE_ADDR", "203.0.113.7")
        meta.setdefault("HTTP_USER_AGENT", FIREFOX_WINDOWS)
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/login/", {"username": user.nic_handle, "password": password},
                               **meta)

    return log_in


def test_a_login_sends_the_nic_handle_time_ip_browser_and_system(login, customer):
    with time_machine.travel(LOGIN_TIME, tick=False):
        assert login(customer).status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [customer.email]
    assert customer.nic_handle in message.subject
    html = message.alternatives[0][0]
    for body in (message.body, html):
        assert customer.nic_handle in body
        assert "Nov. 27, 2026, 5:05 p.m. (UTC)" in body
        assert "203.0.113.7" in body
        assert "Firefox 133" in body
        assert "Windows 10" in body
    row = OutboundEmail.objects.get(user=customer)
    assert row.kind == "login_notification"
    assert row.status == OutboundEmail.Status.SENT


def test_the_time_is_written_the_customers_way(login, customer):
    customer.language = "es"
    customer.save(update_fields=["language"])
    with time_machine.travel(LOGIN_TIME, tick=False):
        login(customer)
    assert "27 de noviembre de 2026 a las 17:05 (UTC)" in mail.outbox[0].body
    assert OutboundEmail.objects.get(user=customer).language == "es"


def test_every_login_is_in_the_security_log_with_ip_and_browser(login, customer):
    login(customer)
    event = SecurityEvent.objects.get(user=customer, action=SecurityEvent.Action.LOGIN)
    assert event.ip_address == "203.0.113.7"
    assert event.user_agent == FIREFOX_WINDOWS


def test_a_customer_who_switched_it_off_gets_no_notification_but_the_login_is_logged(
    login, customer
):
    customer.login_notifications = False
    customer.save(update_fields=["login_notifications"])
    assert login(customer).status_code == 302
    assert mail.outbox == []
    assert not OutboundEmail.objects.filter(user=customer).exists()
    assert SecurityEvent.objects.filter(user=customer, action=SecurityEvent.Action.LOGIN).exists()


def test_a_failed_login_sends_nothing(login, customer):
    assert login(customer, password="wrong-password").status_code == 200
    assert mail.outbox == []
    assert not SecurityEvent.objects.filter(action=SecurityEvent.Action.LOGIN).exists()


def test_an_unrecognised_browser_is_called_unknown(login, customer):
    login(customer, HTTP_USER_AGENT="")
    body = mail.outbox[0].body
    assert "Browser: unknown" in body and "System: unknown" in body


def test_html_in_the_user_agent_is_escaped_in_the_html_part(login, customer):
    login(customer, HTTP_USER_AGENT="<b>Evil</b>/1.0")
    html = mail.outbox[0].alternatives[0][0]
    assert "<b>Evil" not in html


@pytest.mark.parametrize(("header", "browser", "system"), [
    (FIREFOX_WINDOWS, "Firefox 133", "Windows 10"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.1 Safari/605.1.15", "Safari 17.1", "Mac OS X 10.15.7"),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Safari/537.36", "Chrome 131", "Linux"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 "
     "(KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
     "Mobile Safari 17.2", "iOS 17.2"),
    ("", "", ""),
])
def test_the_user_agent_is_read_as_browser_and_system(header, browser, system):
    assert browser_and_system(header) == (browser, system)
