"""Active sessions on /account/security/: listed, ended one by one or all others."""

import pytest
import time_machine
from django.test import Client

from accounts.models import SecurityEvent, UserSession
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")


def browser(customer, user_agent, ip):
    client = Client(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=ip)
    client.post("/login/", {"username": customer.nic_handle, "password": PASSWORD})
    return client


def test_the_security_page_lists_each_session_with_browser_system_ip_and_times(customer):
    with time_machine.travel("2026-11-30 09:00:00 +0000", tick=False):
        phone = browser(customer, SAFARI, "203.0.113.9")
        phone.get("/account/")
    with time_machine.travel("2026-11-30 10:30:00 +0000", tick=False):
        laptop = browser(customer, FIREFOX, "198.51.100.4")
        page = laptop.get("/account/security/").content.decode()
    assert "Firefox 133" in page and "Windows 10" in page and "198.51.100.4" in page
    assert "Mobile Safari 17.5" in page and "iOS 17.5" in page and "203.0.113.9" in page
    assert page.count("This device") == 1
    assert page.index("Firefox 133") < page.index("This device") < page.index("Mobile Safari")
    assert "first seen 11/30/2026 9 a.m., last seen 11/30/2026 9 a.m." in page


def test_ending_a_session_logs_that_browser_out(customer):
    laptop = browser(customer, FIREFOX, "198.51.100.4")
    phone = browser(customer, SAFARI, "203.0.113.9")
    assert phone.get("/account/").status_code == 200
    laptop.get("/account/security/")
    row = UserSession.objects.get(user_agent=SAFARI)
    response = laptop.post(f"/account/security/sessions/{row.pk}/end/")
    assert response["Location"] == "/account/security/"
    assert phone.get("/account/")["Location"].startswith("/login/")
    assert laptop.get("/account/").status_code == 200
    assert "Mobile Safari" not in laptop.get("/account/security/").content.decode()
    assert customer.security_events.filter(action=SecurityEvent.Action.SESSION_ENDED).exists()


def test_ending_all_other_sessions_keeps_this_one(customer):
    laptop = browser(customer, FIREFOX, "198.51.100.4")
    others = [browser(customer, SAFARI, f"203.0.113.{n}") for n in (1, 2)]
    for other in others:
        other.get("/account/")
    laptop.get("/account/")
    response = laptop.post("/account/security/sessions/end-others/", follow=True)
    assert "2 other sessions have been ended." in response.content.decode()
    for other in others:
        assert other.get("/account/")["Location"].startswith("/login/")
    assert laptop.get("/account/").status_code == 200


def test_another_customers_session_cannot_be_ended(customer, other_customer):
    theirs = browser(other_customer, SAFARI, "203.0.113.9")
    theirs.get("/account/")
    mine = browser(customer, FIREFOX, "198.51.100.4")
    row = UserSession.objects.get(user=other_customer)
    mine.post(f"/account/security/sessions/{row.pk}/end/")
    assert theirs.get("/account/").status_code == 200


def test_a_password_change_ends_the_other_sessions_and_their_rows(customer):
    laptop = browser(customer, FIREFOX, "198.51.100.4")
    phone = browser(customer, SAFARI, "203.0.113.9")
    phone.get("/account/")
    laptop.get("/account/")
    laptop.post("/account/security/", {"old_password": PASSWORD,
                                       "new_password1": "another-long-passphrase-88",
                                       "new_password2": "another-long-passphrase-88"})
    assert phone.get("/account/")["Location"].startswith("/login/")
    assert laptop.get("/account/").status_code == 200
    assert list(UserSession.objects.values_list("user_agent", flat=True)) == [FIREFOX]


def test_the_row_follows_the_session_when_django_changes_its_key(customer):
    laptop = browser(customer, FIREFOX, "198.51.100.4")
    laptop.get("/account/")
    first = UserSession.objects.get()
    laptop.post("/account/security/", {"old_password": PASSWORD,
                                       "new_password1": "another-long-passphrase-88",
                                       "new_password2": "another-long-passphrase-88"})
    laptop.get("/account/")
    row = UserSession.objects.get()
    assert row.pk == first.pk and row.session_key == laptop.session.session_key


def test_logging_out_removes_the_session_from_the_list(customer):
    phone = browser(customer, SAFARI, "203.0.113.9")
    phone.get("/account/")
    phone.post("/logout/")
    laptop = browser(customer, FIREFOX, "198.51.100.4")
    assert "Mobile Safari" not in laptop.get("/account/security/").content.decode()


def test_a_visitor_cannot_end_sessions(client):
    assert client.post("/account/security/sessions/end-others/")["Location"].startswith("/login/")


def test_a_primary_email_change_by_code_ends_the_other_sessions(
        customer, django_capture_on_commit_callbacks):
    from accounts.tests.test_email_change import code_from_mail

    laptop = browser(customer, FIREFOX, "198.51.100.4")
    phone = browser(customer, SAFARI, "203.0.113.9")
    phone.get("/account/")
    laptop.get("/account/")
    with django_capture_on_commit_callbacks(execute=True):
        laptop.post("/account/email/", {"new_email": "new.address@example.com",
                                        "new_email2": "new.address@example.com",
                                        "password": PASSWORD})
    laptop.post("/account/email/verify/", {"code": code_from_mail()})
    customer.refresh_from_db()
    assert customer.email == "new.address@example.com"
    assert phone.get("/account/")["Location"].startswith("/login/")
    assert laptop.get("/account/").status_code == 200


def test_a_primary_email_change_by_the_24_hour_rule_ends_every_session(customer):
    from datetime import timedelta

    from accounts import services

    with time_machine.travel("2026-11-30 10:00:00 +0000", tick=False):
        phone = browser(customer, SAFARI, "203.0.113.9")
        phone.get("/account/")
        change = services.email_change_request(user=customer, new_email="new@example.com")
        services.email_change_confirm_new(
            token=services.email_change_link_token(change, services.CONFIRM_NEW_SALT))
    with time_machine.travel(change.due_at + timedelta(minutes=1), tick=False):
        assert services.email_changes_apply_due() == 1
    assert phone.get("/account/")["Location"].startswith("/login/")
    assert not UserSession.objects.exists()


def test_a_password_reset_ends_every_session_and_empties_the_list(customer):
    from django.test import Client as Browser

    from accounts.services import password_reset_url

    phone = browser(customer, SAFARI, "203.0.113.9")
    phone.get("/account/")
    stranger = Browser()
    customer.refresh_from_db()
    link = password_reset_url(customer).split("://", 1)[1].split("/", 1)[1]
    response = stranger.get(f"/{link}")
    assert response.status_code == 302
    stranger.post(response["Location"], {"new_password1": "another-long-passphrase-88",
                                                   "new_password2": "another-long-passphrase-88"})
    assert phone.get("/account/")["Location"].startswith("/login/")
    assert not UserSession.objects.exists()


@pytest.mark.parametrize("engine", ["django.contrib.sessions.backends.cache",
                                    "django.contrib.sessions.backends.cached_db"])
def test_on_a_cache_session_backend_the_list_and_the_end_work_alike(customer, settings,
                                                                    engine):
    settings.SESSION_ENGINE = engine
    laptop = browser(customer, FIREFOX, "198.51.100.4")
    phone = browser(customer, SAFARI, "203.0.113.9")
    assert phone.get("/account/").status_code == 200
    page = laptop.get("/account/security/").content.decode()
    assert "Mobile Safari" in page and "Firefox" in page
    row = UserSession.objects.get(user_agent=SAFARI)
    laptop.post(f"/account/security/sessions/{row.pk}/end/")
    assert phone.get("/account/")["Location"].startswith("/login/")
    assert laptop.get("/account/").status_code == 200
    assert "Mobile Safari" not in laptop.get("/account/security/").content.decode()
