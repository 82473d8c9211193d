import re
from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.test import Client

from accounts import selectors, services
from accounts.models import EmailChangeRequest, SecurityEvent
from conftest import PASSWORD, make_customer, prove_password, run_at_once
from notifications.models import OutboundEmail

pytestmark = pytest.mark.django_db


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)
    return run


def ask(client, new="new.address@example.com", again=None, password=PASSWORD):
    return client.post("/account/email/", {"new_email": new, "new_email2": again or new,
                                           "password": password})


def code_from_mail():
    message = [m for m in mail.outbox if "Verification code" in m.subject][-1]
    return re.search(r"Your verification code: ([A-Z0-9]{8})", message.body).group(1)


def test_a_request_sends_the_code_to_the_current_address_and_a_link_to_the_new(
    customer_client, customer, run_on_commit
):
    response = run_on_commit(ask, customer_client)
    assert response.status_code == 302
    change = EmailChangeRequest.objects.get()
    assert (change.state, change.old_email, change.new_email) == (
        "todo", "daniel@example.org", "new.address@example.com")
    to_old = [m for m in mail.outbox if m.to == ["daniel@example.org"]]
    to_new = [m for m in mail.outbox if m.to == ["new.address@example.com"]]
    assert len(to_old) == len(to_new) == 1
    assert customer.nic_handle in to_old[0].subject
    assert "/account/email/refuse/" in to_old[0].body
    assert "/account/email/confirm/" in to_new[0].body
    code = code_from_mail()
    assert code not in change.code_hash and len(change.code_hash) == 64
    assert code not in str(list(SecurityEvent.objects.values_list("detail", flat=True)))


def test_the_page_and_dashboard_show_the_pending_request_with_time_left(customer_client, run_on_commit):
    with time_machine.travel("2026-05-01 10:00:00Z", tick=False):
        run_on_commit(ask, customer_client)
    with time_machine.travel("2026-05-01 12:30:00Z", tick=False):
        for url in ("/account/email/", "/account/"):
            page = customer_client.get(url).content.decode()
            assert "new.address@example.com" in page
            assert "21\xa0hours, 30\xa0minutes" in page


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"new": "Daniel@Example.org"}, "This is already your email address."),
        ({"new": "a@example.com", "again": "b@example.com"}, "The two addresses do not match."),
        ({"password": "not-my-password"}, "Your password is not correct."),
        ({"new": "not an address"}, "Enter a valid email address."),
    ],
)
def test_bad_requests_get_a_clear_message(customer_client, other_customer, kwargs, message):
    response = ask(customer_client, **kwargs)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not EmailChangeRequest.objects.exists()


def outbox_rows_of(user):
    """What the customer's email history shows: subject and status of each row."""
    return list(OutboundEmail.objects.filter(user=user).order_by("pk")
                .values_list("kind", "subject", "status"))


@pytest.mark.parametrize("taken", ["other@example.net", "OTHER@Example.NET"])
def test_a_new_address_used_by_another_account_gets_the_same_answer_and_a_notice_instead_of_the_link(
    customer_client, customer, other_customer, run_on_commit, taken
):
    response = run_on_commit(ask, customer_client, new=taken)
    assert response.status_code == 302
    page = customer_client.get(response["Location"]).content.decode()
    assert "We sent a verification code to your current address daniel@example.org" in page
    change = EmailChangeRequest.objects.get()
    assert (change.state, change.new_email) == ("todo", "other@example.net")
    to_old = [m for m in mail.outbox if m.to == ["daniel@example.org"]]
    to_new = [m for m in mail.outbox if m.to == ["other@example.net"]]
    assert len(to_old) == len(to_new) == 1
    assert "Verification code" in to_old[0].subject
    notice = to_new[0]
    assert "/account/email/confirm/" not in notice.body
    assert "already uses this address" in notice.body
    # The notice goes to someone else's mailbox: nothing about the customer who asked.
    assert customer.nic_handle not in notice.body + notice.subject
    assert "Daniel" not in notice.body and "daniel@example.org" not in notice.body
    assert OutboundEmail.objects.get(to_address="other@example.net").user is None


def test_the_history_and_the_log_are_the_same_for_a_taken_and_a_free_address(
    customer_client, customer, other_customer, run_on_commit
):
    SecurityEvent.objects.filter(user=customer).delete()
    run_on_commit(ask, customer_client, new="free@example.com")
    free = outbox_rows_of(customer)
    free_log = list(customer.security_events.values_list("action", flat=True))
    services.email_change_cancel(change=EmailChangeRequest.objects.get())
    OutboundEmail.objects.all().delete()
    SecurityEvent.objects.filter(user=customer).delete()
    run_on_commit(ask, customer_client, new=other_customer.email)
    assert outbox_rows_of(customer) == free
    assert list(customer.security_events.values_list("action", flat=True)) == free_log


def test_a_change_to_an_address_used_by_another_account_never_applies(
    customer_client, customer, other_customer, run_on_commit
):
    run_on_commit(ask, customer_client, new=other_customer.email)
    with time_machine.travel(timedelta(hours=25)):
        assert services.email_changes_apply_due() == 0
    assert EmailChangeRequest.objects.get().state == "todo"
    response = run_on_commit(customer_client.post, "/account/email/verify/",
                             {"code": code_from_mail()}, follow=True)
    assert EmailChangeRequest.objects.get().state == "aborted"
    customer.refresh_from_db()
    other_customer.refresh_from_db()
    assert (customer.email, other_customer.email) == ("daniel@example.org", "other@example.net")
    assert "now used by another account" in response.content.decode()


def test_the_right_code_applies_the_change_at_once(customer_client, customer, run_on_commit):
    run_on_commit(ask, customer_client)
    code = code_from_mail()
    mail.outbox.clear()
    response = run_on_commit(customer_client.post, "/account/email/verify/", {"code": code.lower()},
                             follow=True)
    assert "Your email address is now new.address@example.com." in response.content.decode()
    customer.refresh_from_db()
    assert customer.email == "new.address@example.com"
    assert EmailChangeRequest.objects.get().state == "done"
    assert sorted(m.to[0] for m in mail.outbox) == ["daniel@example.org", "new.address@example.com"]
    assert all(customer.nic_handle in m.body for m in mail.outbox)


def test_login_works_with_the_new_email_and_no_longer_with_the_old(client, customer, run_on_commit):
    client.force_login(customer)
    prove_password(client)
    run_on_commit(ask, client)
    run_on_commit(client.post, "/account/email/verify/", {"code": code_from_mail()})
    client.post("/logout/")
    assert client.post("/login/", {"username": "daniel@example.org", "password": PASSWORD}).status_code == 200
    assert client.post("/login/", {"username": "New.Address@example.com", "password": PASSWORD}).status_code == 302


def test_a_used_code_does_not_work_again(customer_client, run_on_commit):
    run_on_commit(ask, customer_client)
    code = code_from_mail()
    run_on_commit(customer_client.post, "/account/email/verify/", {"code": code})
    change = EmailChangeRequest.objects.get()
    with pytest.raises(services.EmailChangeError):
        services.email_change_verify(change=change, code=code)
    response = customer_client.post("/account/email/verify/", {"code": code}, follow=True)
    assert "You have no pending email change." in response.content.decode()


def test_a_second_submit_of_the_right_code_says_the_request_is_no_longer_pending(
    customer_client, customer, run_on_commit
):
    run_on_commit(ask, customer_client)
    code = code_from_mail()
    read_before_the_first_applied = selectors.email_change_pending(user=customer)
    run_on_commit(customer_client.post, "/account/email/verify/", {"code": code})
    # The second submit (a double click) read the pending request before the first one
    # applied it.
    with mock.patch.object(selectors, "email_change_pending",
                           return_value=read_before_the_first_applied):
        response = customer_client.post("/account/email/verify/", {"code": code})
    assert response.status_code == 302
    assert response["Location"] == "/account/email/"
    assert "This request is no longer pending." in customer_client.get("/account/email/").content.decode()
    customer.refresh_from_db()
    assert customer.email == "new.address@example.com"
    assert customer.security_events.filter(action=SecurityEvent.Action.EMAIL_CHANGED).count() == 1


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_submits_of_the_right_code_at_once_apply_it_once(postgres, customer):
    first = Client()
    first.force_login(customer)
    prove_password(first)
    ask(first)
    code = code_from_mail()
    # A double click: two requests of the same browser session at the same moment.
    second = Client()
    second.cookies = first.cookies
    browsers = [first, second]

    responses, errors = run_at_once(
        lambda n: browsers[n].post("/account/email/verify/", {"code": code}), 2)

    assert errors == []
    assert sorted(response["Location"] for response in responses) == [
        "/account/email/", "/account/profile/"]
    customer.refresh_from_db()
    assert customer.email == "new.address@example.com"
    assert EmailChangeRequest.objects.get().state == "done"
    assert customer.security_events.filter(action=SecurityEvent.Action.EMAIL_CHANGED).count() == 1
    assert OutboundEmail.objects.filter(kind="email_changed").count() == 2


def test_a_wrong_code_says_how_many_attempts_are_left(customer_client, run_on_commit):
    run_on_commit(ask, customer_client)
    response = customer_client.post("/account/email/verify/", {"code": "WRONG123"})
    assert "This code is not correct. 4 attempts left." in response.content.decode()
    assert EmailChangeRequest.objects.get().wrong_codes == 1


def test_five_wrong_codes_abort_the_request(customer_client, customer, run_on_commit):
    run_on_commit(ask, customer_client)
    for _ in range(4):
        customer_client.post("/account/email/verify/", {"code": "WRONG123"})
    response = run_on_commit(customer_client.post, "/account/email/verify/", {"code": "WRONG123"},
                             follow=True)
    assert "too many wrong codes" in response.content.decode()
    change = EmailChangeRequest.objects.get()
    assert change.state == "aborted"
    customer.refresh_from_db()
    assert customer.email == "daniel@example.org"
    assert OutboundEmail.objects.filter(kind="email_change_cancelled").count() == 1


def test_resending_replaces_the_code_and_is_rate_limited(customer_client, run_on_commit):
    with time_machine.travel("2026-05-01 10:00:00Z", tick=False):
        run_on_commit(ask, customer_client)
        first = code_from_mail()
        too_soon = customer_client.post("/account/email/resend/", follow=True)
        assert "Please wait 60 seconds" in too_soon.content.decode()
    with time_machine.travel("2026-05-01 10:01:01Z", tick=False):
        response = run_on_commit(customer_client.post, "/account/email/resend/", follow=True)
        assert "We sent a new code" in response.content.decode()
        second = code_from_mail()
        assert first != second
        change = EmailChangeRequest.objects.get()
        with pytest.raises(services.WrongCode):
            services.email_change_verify(change=change, code=first)
        services.email_change_verify(change=change, code=second)
        change.refresh_from_db()
        assert change.state == "done"


def test_no_more_than_five_codes_per_request(customer_client, run_on_commit):
    run_on_commit(ask, customer_client)
    EmailChangeRequest.objects.update(codes_sent=5)
    with time_machine.travel(timedelta(minutes=2)):
        response = customer_client.post("/account/email/resend/", follow=True)
    assert "too many codes" in response.content.decode()


def test_a_new_request_aborts_the_previous_one(customer_client, run_on_commit):
    run_on_commit(ask, customer_client, new="first@example.com")
    run_on_commit(ask, customer_client, new="second@example.com")
    states = dict(EmailChangeRequest.objects.values_list("new_email", "state"))
    assert states == {"first@example.com": "aborted", "second@example.com": "todo"}


def test_the_customer_can_cancel_the_request(customer_client, run_on_commit):
    run_on_commit(ask, customer_client)
    response = customer_client.post("/account/email/cancel/", follow=True)
    assert "has been cancelled" in response.content.decode()
    assert EmailChangeRequest.objects.get().state == "aborted"


def test_the_refuse_link_asks_first_then_refuses(client, customer, run_on_commit):
    client.force_login(customer)
    prove_password(client)
    run_on_commit(ask, client)
    client.post("/logout/")
    link = re.search(r"(/account/email/refuse/\S+/)", mail.outbox[0].body).group(1)
    assert "Refuse this change" in client.get(link).content.decode()
    assert EmailChangeRequest.objects.get().state == "todo"
    page = run_on_commit(client.post, link).content.decode()
    assert "has been refused" in page
    assert EmailChangeRequest.objects.get().state == "refused"
    customer.refresh_from_db()
    assert customer.email == "daniel@example.org"


def test_a_forged_refuse_link_is_rejected(client):
    assert client.get("/account/email/refuse/forged:token/").status_code == 400


def test_the_new_address_link_confirms_it(client, customer, run_on_commit):
    client.force_login(customer)
    prove_password(client)
    run_on_commit(ask, client)
    link = re.search(r"(/account/email/confirm/\S+/)",
                     [m for m in mail.outbox if m.to == ["new.address@example.com"]][0].body).group(1)
    client.post("/logout/")
    assert "is reachable" in client.get(link).content.decode()
    assert EmailChangeRequest.objects.get().new_email_confirmed_at is not None


def test_another_customers_request_is_out_of_reach(customer_client, other_customer, customer,
                                                   run_on_commit):
    run_on_commit(ask, customer_client)
    client = Client()
    client.force_login(other_customer)
    prove_password(client)
    assert "new.address@example.com" not in client.get("/account/email/").content.decode()
    assert client.post("/account/email/resend/").status_code == 404
    assert client.post("/account/email/cancel/").status_code == 404
    client.post("/account/email/verify/", {"code": code_from_mail()})
    assert EmailChangeRequest.objects.get().state == "todo"
    customer.refresh_from_db()
    assert customer.email == "daniel@example.org"


def test_every_step_is_in_the_security_log(customer_client, customer, run_on_commit):
    run_on_commit(ask, customer_client)
    customer_client.post("/account/email/verify/", {"code": "WRONG123"})
    run_on_commit(customer_client.post, "/account/email/verify/", {"code": code_from_mail()})
    actions = list(customer.security_events.order_by("pk").values_list("action", flat=True))
    assert actions[-3:] == [SecurityEvent.Action.EMAIL_CHANGE_REQUESTED,
                            SecurityEvent.Action.EMAIL_CHANGE_CODE_FAILED,
                            SecurityEvent.Action.EMAIL_CHANGED]


def test_the_pages_need_a_login(client):
    for url in ("/account/email/", "/account/email/verify/"):
        assert client.get(url)["Location"].startswith("/login/")


def test_an_address_taken_meanwhile_aborts_instead_of_failing(customer_client, run_on_commit):
    run_on_commit(ask, customer_client, new="race@example.com")
    make_customer("RACE@example.com", first_name="Rita")
    response = run_on_commit(customer_client.post, "/account/email/verify/",
                             {"code": code_from_mail()}, follow=True)
    assert "now used by another account" in response.content.decode()
    assert EmailChangeRequest.objects.get().state == "aborted"
