import re
from datetime import datetime, timedelta, timezone
from unittest import mock

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.core.cache import cache
from django.test import Client

from accounts.models import SecurityEvent, User
from accounts.views import PasswordResetConfirmView
from conftest import PASSWORD, run_at_once
from notifications.models import OutboundEmail

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a-brand-new-passphrase-77"


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()


@pytest.fixture
def ask(client, django_capture_on_commit_callbacks):
    def ask(login, ip="198.51.100.20"):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/password-reset/", {"login": login}, REMOTE_ADDR=ip)
    return ask


def reset_link():
    return re.search(r"(/reset/[^/\s]+/[^/\s]+/)", mail.outbox[-1].body).group(1)


def set_password(client, link, password=NEW_PASSWORD):
    page = client.get(link, follow=True)
    form_url = page.redirect_chain[-1][0] if page.redirect_chain else link
    return client.post(form_url, {"new_password1": password, "new_password2": password},
                       follow=True)


def test_the_login_page_links_to_the_reset_page(client):
    assert 'href="/password-reset/"' in client.get("/login/").content.decode()
    assert "Forgotten password?" in client.get("/password-reset/").content.decode()


@pytest.mark.parametrize("login", ["dm", "DANIEL@EXAMPLE.ORG", "nic-upper"])
def test_a_link_goes_to_the_primary_address_for_a_nic_or_email_in_any_case(customer, ask, login):
    login = {"dm": customer.nic_handle, "nic-upper": customer.nic_handle.upper()}.get(login, login)
    response = ask(login)
    assert response["Location"] == "/password-reset/done/"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["daniel@example.org"]
    assert customer.nic_handle in mail.outbox[0].body
    assert "60 minutes" in mail.outbox[0].body


def test_an_unknown_account_gets_the_same_answer_and_no_email(client, ask, customer):
    unknown = ask("zz000000-OVH")
    known = ask(customer.nic_handle, ip="198.51.100.21")
    assert unknown.status_code == known.status_code == 302
    assert unknown["Location"] == known["Location"]
    assert len(mail.outbox) == 1
    page = client.get("/password-reset/done/").content.decode()
    assert "If an account matches what you entered" in page


def test_the_link_sets_a_new_password_without_logging_in(client, customer, ask):
    ask(customer.nic_handle)
    response = set_password(client, reset_link())
    assert "Your password has been changed" in response.content.decode()
    assert SESSION_KEY not in client.session
    customer.refresh_from_db()
    assert customer.check_password(NEW_PASSWORD)


def test_the_new_password_must_pass_the_validators(client, customer, ask):
    ask(customer.nic_handle)
    response = set_password(client, reset_link(), password="12345678")
    assert "This password is too short." in response.content.decode()
    customer.refresh_from_db()
    assert customer.check_password(PASSWORD)


def test_a_used_link_does_not_work_again(client, customer, ask):
    ask(customer.nic_handle)
    link = reset_link()
    set_password(client, link)
    page = client.get(link, follow=True).content.decode()
    assert "has already been used or it has expired" in page


def open_link(link):
    """A browser that followed the link: its session holds the token, and it is on the
    form's page (returned)."""
    browser = Client()
    page = browser.get(link, follow=True)
    return browser, page.redirect_chain[-1][0]


def test_a_link_opened_in_two_browsers_sets_the_password_once(customer, ask):
    ask(customer.nic_handle)
    (first, form_url), (second, _) = open_link(reset_link()), open_link(reset_link())
    read_before_the_first_saved = User.objects.get(pk=customer.pk)
    first.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    # The second request checked the link against the account as it was before the
    # first one saved (both at once).
    with mock.patch.object(PasswordResetConfirmView, "get_user",
                           return_value=read_before_the_first_saved):
        response = second.post(form_url, {"new_password1": "the-second-passphrase-99",
                                          "new_password2": "the-second-passphrase-99"})
    assert response.status_code == 200
    assert "has already been used or it has expired" in response.content.decode()
    customer.refresh_from_db()
    assert customer.check_password(NEW_PASSWORD)
    assert OutboundEmail.objects.filter(kind="password_changed").count() == 1


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_one_link_used_in_two_browsers_at_once_sets_the_password_once(postgres, customer, ask):
    ask(customer.nic_handle)
    browsers, passwords = [], ["first-browser-passphrase-1", "second-browser-passphrase-2"]
    for _ in passwords:
        browser, form_url = open_link(reset_link())
        browsers.append(browser)

    responses, errors = run_at_once(lambda n: browsers[n].post(
        form_url, {"new_password1": passwords[n], "new_password2": passwords[n]}), 2)

    assert errors == []
    succeeded = [n for n, response in enumerate(responses)
                 if response.status_code == 302 and response["Location"] == "/reset/done/"]
    assert len(succeeded) == 1
    loser = responses[1 - succeeded[0]]
    assert loser.status_code == 200
    assert "has already been used or it has expired" in loser.content.decode()
    customer.refresh_from_db()
    assert customer.check_password(passwords[succeeded[0]])
    assert OutboundEmail.objects.filter(kind="password_changed").count() == 1
    assert customer.security_events.filter(action=SecurityEvent.Action.PASSWORD_RESET).count() == 1


def test_an_expired_link_does_not_work(client, customer, ask):
    with time_machine.travel(datetime(2026, 4, 1, 8, 0, tzinfo=timezone.utc)):
        ask(customer.nic_handle)
    with time_machine.travel(datetime(2026, 4, 1, 9, 1, tzinfo=timezone.utc)):
        page = client.get(reset_link(), follow=True).content.decode()
    assert "has already been used or it has expired" in page


def test_after_a_reset_a_notice_is_sent_and_other_sessions_end(
    client, customer, ask, django_capture_on_commit_callbacks
):
    other_browser = Client()
    other_browser.force_login(customer)
    assert other_browser.get("/account/").status_code == 200
    ask(customer.nic_handle)
    with django_capture_on_commit_callbacks(execute=True):
        set_password(client, reset_link())
    assert other_browser.get("/account/").status_code == 302
    notice = OutboundEmail.objects.get(kind="password_changed")
    assert notice.to_address == customer.email
    assert customer.nic_handle in notice.body_text
    actions = set(customer.security_events.values_list("action", flat=True))
    assert {SecurityEvent.Action.PASSWORD_RESET_REQUESTED, SecurityEvent.Action.PASSWORD_RESET,
            SecurityEvent.Action.SESSIONS_ENDED} <= actions


def test_a_fourth_request_for_the_same_login_is_limited_with_a_clear_message(customer, ask):
    for n in range(3):
        assert ask(customer.email, ip=f"203.0.113.{n}").status_code == 302
    response = ask(customer.email.upper(), ip="203.0.113.99")
    assert response.status_code == 200
    assert "Too many requests. Please try again in" in response.content.decode()
    assert len(mail.outbox) == 3


def test_the_limit_reached_for_a_nic_does_not_show_on_its_email_address(customer, ask):
    for n in range(3):
        assert ask(customer.nic_handle, ip=f"203.0.113.{n}").status_code == 302
    assert ask(customer.email, ip="203.0.113.99").status_code == 302
    assert "Too many requests" in ask(customer.nic_handle, ip="203.0.113.98").content.decode()


def test_alternating_nic_and_email_sends_at_most_three_links_an_hour(customer, ask):
    with time_machine.travel(datetime(2026, 4, 1, 8, 0, tzinfo=timezone.utc), tick=False):
        for n in range(3):
            for login in (customer.nic_handle, customer.email):
                assert ask(login, ip=f"203.0.113.{n}").status_code == 302
    assert len(mail.outbox) == 3
    with time_machine.travel(datetime(2026, 4, 1, 8, 30, tzinfo=timezone.utc), tick=False):
        cache.clear()  # the limits of the web page are over; the worker's cap is not
        ask(customer.email)
    assert len(mail.outbox) == 3
    with time_machine.travel(datetime(2026, 4, 1, 9, 0, 1, tzinfo=timezone.utc), tick=False):
        ask(customer.email)
    assert len(mail.outbox) == 4
    assert customer.security_events.filter(
        action=SecurityEvent.Action.PASSWORD_RESET_REQUESTED).count() == 4


def test_limits_count_before_the_form_is_read(customer, ask):
    for n in range(20):
        ask("", ip="192.0.2.51")
    assert "Too many requests" in ask(customer.email, ip="192.0.2.51").content.decode()
    for n in range(3):
        ask(f" {customer.email.upper()} ", ip=f"192.0.2.{60 + n}")
    assert "Too many requests" in ask(customer.email, ip="192.0.2.70").content.decode()
    assert len(mail.outbox) == 3


def test_requests_are_limited_per_ip(db, ask):
    for n in range(20):
        ask(f"zz{n:06d}-OVH", ip="192.0.2.50")
    assert "Too many requests" in ask("zz999999-OVH", ip="192.0.2.50").content.decode()


def test_an_unknown_account_is_limited_like_a_real_one(db, ask):
    for n in range(3):
        ask("ghost@example.org", ip=f"203.0.113.{n}")
    assert "Too many requests" in ask("ghost@example.org", ip="203.0.113.9").content.decode()


def test_the_limit_never_locks_the_account(client, customer, ask):
    for n in range(5):
        ask(customer.email, ip=f"203.0.113.{n}")
    response = client.post("/login/", {"username": customer.nic_handle, "password": PASSWORD})
    assert response.status_code == 302


def test_the_limit_ends_after_an_hour(customer, ask):
    with time_machine.travel(datetime(2026, 4, 1, 8, 0, tzinfo=timezone.utc), tick=False):
        for n in range(4):
            ask(customer.email, ip=f"203.0.113.{n}")
    with time_machine.travel(datetime(2026, 4, 1, 9, 0, 1, tzinfo=timezone.utc), tick=False):
        assert ask(customer.email).status_code == 302


def test_the_link_of_another_customer_does_not_reset_mine(client, customer, other_customer, ask):
    ask(other_customer.nic_handle)
    set_password(client, reset_link())
    customer.refresh_from_db()
    other_customer.refresh_from_db()
    assert customer.check_password(PASSWORD)
    assert other_customer.check_password(NEW_PASSWORD)


def test_every_request_is_recorded_for_support_whether_or_not_it_matched(customer, ask):
    from accounts.models import PasswordResetAttempt

    ask(customer.nic_handle.upper(), ip="203.0.113.5")
    ask("ghost@example.org", ip="203.0.113.6")
    rows = {a.login: (a.user, a.ip_address, a.processed_at is not None)
            for a in PasswordResetAttempt.objects.all()}
    assert rows == {customer.nic_handle.lower(): (customer, "203.0.113.5", True),
                    "ghost@example.org": (None, "203.0.113.6", True)}


def test_a_request_the_broker_lost_is_sent_by_the_requeue_job(customer, client,
                                                              django_capture_on_commit_callbacks):
    from accounts.models import PasswordResetAttempt
    from accounts.services import password_resets_requeue_stale

    with django_capture_on_commit_callbacks(execute=False):
        client.post("/password-reset/", {"login": customer.email})
    assert mail.outbox == []
    attempt = PasswordResetAttempt.objects.get()
    with time_machine.travel(attempt.created_at + timedelta(minutes=3)):
        with django_capture_on_commit_callbacks(execute=True):
            assert password_resets_requeue_stale() == 1
    assert [m.to for m in mail.outbox] == [[customer.email]]
    with django_capture_on_commit_callbacks(execute=True):
        password_resets_requeue_stale(now=attempt.created_at + timedelta(minutes=4))
    assert len(mail.outbox) == 1
