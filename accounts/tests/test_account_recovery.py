import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import services
from accounts.models import BackupCode, RecoveryRequest, SecurityEvent, User
from accounts.services import (
    EmailChangeError,
    recovery_request_approve,
    recovery_request_refuse,
)
from conftest import give_second_factor, make_customer, staff_log_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    user = make_customer("agent@portal.example", first_name="Sam", last_name="Support")
    user.is_staff = True
    user.save()
    user.user_permissions.add(*Permission.objects.filter(
        codename__in=["view_recoveryrequest", "change_recoveryrequest"]))
    return User.objects.get(pk=user.pk)


@pytest.fixture
def send(client, django_capture_on_commit_callbacks):
    def send(nic, new="fresh@example.net", again=None, message="I lost my mailbox", ip="198.51.100.30"):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/account-recovery/", {
                "nic_handle": nic, "new_email": new, "new_email2": again or new,
                "message": message}, REMOTE_ADDR=ip)
    return send


def test_a_request_is_recorded_and_both_addresses_are_told(customer, send):
    response = send(customer.nic_handle.upper())
    assert response["Location"] == "/account-recovery/sent/"
    recovery = RecoveryRequest.objects.get()
    assert (recovery.user, recovery.nic_handle, recovery.old_email, recovery.new_email,
            recovery.state) == (customer, customer.nic_handle.upper(), "daniel@example.org",
                                "fresh@example.net", "pending")
    assert recovery.processed_at is not None
    to_new = [m for m in mail.outbox if m.to == ["fresh@example.net"]]
    to_old = [m for m in mail.outbox if m.to == ["daniel@example.org"]]
    assert len(to_new) == len(to_old) == 1
    assert "We received your account recovery request" in to_new[0].subject
    assert "/account-recovery/cancel/" in to_old[0].body
    assert customer.security_events.filter(action=SecurityEvent.Action.RECOVERY_REQUESTED).exists()


def test_an_unknown_nic_gets_the_same_answer_and_only_the_new_address_is_told(db, send):
    response = send("zz000000-OVH")
    assert response["Location"] == "/account-recovery/sent/"
    recovery = RecoveryRequest.objects.get()
    assert (recovery.user, recovery.nic_handle, recovery.old_email) == (None, "zz000000-OVH", "")
    assert recovery.processed_at is not None
    assert [m.to for m in mail.outbox] == [["fresh@example.net"]]
    assert not SecurityEvent.objects.exists()


def test_the_new_address_is_told_in_the_language_of_the_page(db, send, client):
    client.cookies["django_language"] = "es"
    send("zz000000-OVH")
    assert mail.outbox[0].subject == "Hemos recibido su solicitud de recuperación de cuenta"


def shape_of_queries(client, data, ip):
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/account-recovery/", data, REMOTE_ADDR=ip)
    assert response.status_code == 302
    # Values and savepoint names aside, the statements themselves.
    return [re.sub(r"'[^']*'|\"s\d+_x\d+\"|\b\d+\b", "?", query["sql"])
            for query in queries.captured_queries]


def test_the_web_request_does_the_same_work_whatever_the_nic_and_the_new_address(
    client, customer, other_customer, django_capture_on_commit_callbacks
):
    def data(nic, new):
        return {"nic_handle": nic, "new_email": new, "new_email2": new, "message": "Help"}

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        shapes = [
            shape_of_queries(client, data(customer.nic_handle, "fresh@example.net"), "192.0.2.1"),
            shape_of_queries(client, data("zz000000-OVH", "fresh@example.net"), "192.0.2.2"),
            shape_of_queries(client, data(customer.nic_handle, other_customer.email), "192.0.2.3"),
        ]
    assert shapes[0] == shapes[1] == shapes[2]
    assert [q.split()[0] for q in shapes[0] if not q.startswith(("SAVEPOINT", "RELEASE"))] == ["INSERT"]
    assert len(callbacks) == 3
    assert mail.outbox == []


def test_mismatched_addresses_get_a_message(customer, send):
    assert "do not match" in send(customer.nic_handle, again="typo@example.net").content.decode()
    assert not RecoveryRequest.objects.exists()


def test_a_new_address_used_by_another_account_gets_the_same_answer_and_cannot_be_approved(
    customer, other_customer, staff, send
):
    response = send(customer.nic_handle, new="OTHER@example.net")
    assert response["Location"] == "/account-recovery/sent/"
    recovery = RecoveryRequest.objects.get()
    assert (recovery.user, recovery.new_email) == (customer, "other@example.net")
    with pytest.raises(EmailChangeError, match="used by another account"):
        recovery_request_approve(recovery=recovery, staff_user=staff, reason="checked")
    customer.refresh_from_db()
    assert customer.email == "daniel@example.org"


def test_requests_are_rate_limited_per_ip_even_when_the_form_is_invalid(customer, send):
    for _ in range(5):
        send(customer.nic_handle, again="typo@example.net", ip="192.0.2.77")
    for nic in (customer.nic_handle, "zz000000-OVH"):
        assert "Too many requests" in send(nic, ip="192.0.2.77").content.decode()
    assert not RecoveryRequest.objects.exists()
    assert send(customer.nic_handle, ip="192.0.2.78").status_code == 302


def test_a_request_is_processed_once(customer, send, django_capture_on_commit_callbacks):
    from accounts.services import recovery_request_process

    send(customer.nic_handle)
    recovery = RecoveryRequest.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        assert recovery_request_process(recovery_id=recovery.pk) is None
    assert len(mail.outbox) == 2


def test_a_request_the_broker_lost_is_processed_by_the_requeue_job(
    customer, client, django_capture_on_commit_callbacks
):
    from accounts.tasks import requeue_password_resets_task

    with django_capture_on_commit_callbacks(execute=False):
        client.post("/account-recovery/", {"nic_handle": customer.nic_handle,
                                           "new_email": "fresh@example.net",
                                           "new_email2": "fresh@example.net", "message": "Help"})
    recovery = RecoveryRequest.objects.get()
    assert (recovery.user, recovery.processed_at, mail.outbox) == (None, None, [])
    with time_machine.travel(recovery.created_at + timedelta(minutes=3)):
        with django_capture_on_commit_callbacks(execute=True):
            assert requeue_password_resets_task() == {"password_resets": 0,
                                                      "recovery_requests": 1}
        with django_capture_on_commit_callbacks(execute=True):
            assert requeue_password_resets_task()["recovery_requests"] == 0
    recovery.refresh_from_db()
    assert recovery.user == customer
    assert sorted(m.to[0] for m in mail.outbox) == ["daniel@example.org", "fresh@example.net"]


def test_staff_see_only_requests_that_matched_an_account(client, customer, staff, send):
    send(customer.nic_handle, new="mine@example.net", ip="192.0.2.1")
    send("zz000000-OVH", new="ghost@example.net", ip="192.0.2.2")
    unmatched = RecoveryRequest.objects.get(user=None)
    staff_log_in(client, staff)
    page = client.get("/admin/accounts/recoveryrequest/").content.decode()
    assert "mine@example.net" in page and "ghost@example.net" not in page
    assert client.get(f"/admin/accounts/recoveryrequest/{unmatched.pk}/change/").status_code == 302
    response = client.post(f"/admin/accounts/recoveryrequest/{unmatched.pk}/decide/approve/",
                           {"reason": "yes"})
    assert response.status_code == 404


def test_the_current_address_can_cancel(client, customer, send):
    send(customer.nic_handle)
    link = re.search(r"(/account-recovery/cancel/\S+/)", mail.outbox[0].body).group(1)
    assert "Cancel this request" in client.get(link).content.decode()
    assert "has been cancelled" in client.post(link).content.decode()
    assert RecoveryRequest.objects.get().state == "cancelled"
    assert customer.security_events.filter(action=SecurityEvent.Action.RECOVERY_CANCELLED).exists()


def test_approval_moves_the_account_and_sends_a_reset_link(
    customer, staff, send, django_capture_on_commit_callbacks
):
    send(customer.nic_handle)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        recovery_request_approve(recovery=RecoveryRequest.objects.get(), staff_user=staff,
                                 reason="ID card checked")
    customer.refresh_from_db()
    assert customer.email == "fresh@example.net"
    to_new = [m for m in mail.outbox if m.to == ["fresh@example.net"]][0]
    assert re.search(r"/reset/[^/\s]+/[^/\s]+/", to_new.body)
    assert [m for m in mail.outbox if m.to == ["daniel@example.org"]]
    event = customer.security_events.get(action=SecurityEvent.Action.RECOVERY_APPROVED)
    assert event.actor == staff and event.detail["reason"] == "ID card checked"


def test_refusal_tells_the_new_address_the_reason_without_account_details(
    customer, staff, send, django_capture_on_commit_callbacks
):
    send(customer.nic_handle)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        recovery_request_refuse(recovery=RecoveryRequest.objects.get(), staff_user=staff,
                                reason="Could not verify identity")
    customer.refresh_from_db()
    assert customer.email == "daniel@example.org"
    assert len(mail.outbox) == 1
    assert "Could not verify identity" in mail.outbox[0].body
    assert customer.nic_handle not in mail.outbox[0].body and "Daniel" not in mail.outbox[0].body
    assert RecoveryRequest.objects.get().state == "refused"


def test_staff_decide_in_admin_with_a_reason(client, customer, staff, send):
    send(customer.nic_handle)
    recovery = RecoveryRequest.objects.get()
    staff_log_in(client, staff)
    page = client.get(f"/admin/accounts/recoveryrequest/{recovery.pk}/change/").content.decode()
    assert "I lost my mailbox" in page and "Approve" in page
    url = f"/admin/accounts/recoveryrequest/{recovery.pk}/decide/approve/"
    assert "This field is required" in client.post(url, {"reason": ""}).content.decode()
    client.post(url, {"reason": "Checked by phone"})
    recovery.refresh_from_db()
    assert (recovery.state, recovery.decided_by, recovery.reason) == ("approved", staff, "Checked by phone")


def test_a_decided_request_cannot_be_decided_again(client, customer, staff, send):
    send(customer.nic_handle)
    recovery = RecoveryRequest.objects.get()
    staff_log_in(client, staff)
    client.post(f"/admin/accounts/recoveryrequest/{recovery.pk}/decide/refuse/", {"reason": "no"})
    response = client.post(f"/admin/accounts/recoveryrequest/{recovery.pk}/decide/approve/",
                           {"reason": "yes"}, follow=True)
    assert "no longer pending" in response.content.decode()
    customer.refresh_from_db()
    assert customer.email == "daniel@example.org"


def test_a_customer_cannot_reach_the_admin_decision(client, customer, other_customer, send):
    send(customer.nic_handle)
    recovery = RecoveryRequest.objects.get()
    client.force_login(other_customer)
    response = client.post(f"/admin/accounts/recoveryrequest/{recovery.pk}/decide/approve/",
                           {"reason": "mine now"})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert RecoveryRequest.objects.get().state == "pending"


# --- the second factor -----------------------------------------------------------------

TURNED_OFF = "Two-step verification has been turned off on this account"
WILL_BE_OFF = "the two-step verification of your account will be turned off"


def test_the_notice_says_an_approval_would_turn_the_second_factor_off(customer, send):
    give_second_factor(customer)
    send(customer.nic_handle)
    to_old = [m for m in mail.outbox if m.to == ["daniel@example.org"]][0]
    to_new = [m for m in mail.outbox if m.to == ["fresh@example.net"]][0]
    assert WILL_BE_OFF in to_old.body
    # The new address learns nothing about the account: the same line for everyone.
    assert "any two-step verification of the account is turned off too" in to_new.body


def test_an_approval_removes_the_second_factor_and_both_emails_say_so(
    customer, staff, send, django_capture_on_commit_callbacks
):
    give_second_factor(customer)
    services.backup_codes_regenerate(user=customer)
    send(customer.nic_handle)
    assert services.second_factor_enabled(user=customer)  # a request alone changes nothing
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        recovery_request_approve(recovery=RecoveryRequest.objects.get(), staff_user=staff,
                                 reason="ID card checked")
    assert not services.second_factor_enabled(user=customer)
    assert not BackupCode.objects.filter(user=customer).exists()
    event = customer.security_events.get(action=SecurityEvent.Action.SECOND_FACTOR_REMOVED)
    assert event.actor == staff and event.detail["reason"] == "recovery"
    assert sorted(m.to[0] for m in mail.outbox if TURNED_OFF in m.body) == [
        "daniel@example.org", "fresh@example.net"]


def test_a_refused_or_cancelled_request_leaves_the_second_factor(
    client, customer, staff, send, django_capture_on_commit_callbacks
):
    give_second_factor(customer)
    send(customer.nic_handle)
    with django_capture_on_commit_callbacks(execute=True):
        recovery_request_refuse(recovery=RecoveryRequest.objects.get(), staff_user=staff,
                                reason="no")
    send(customer.nic_handle, new="again@example.net")
    link = re.search(r"(/account-recovery/cancel/\S+/)",
                     [m for m in mail.outbox if m.to == ["daniel@example.org"]][-1].body).group(1)
    client.post(link)
    assert services.second_factor_enabled(user=customer)
    assert not any(TURNED_OFF in m.body for m in mail.outbox)


def test_an_approval_without_a_second_factor_says_nothing_about_it(
    customer, staff, send, django_capture_on_commit_callbacks
):
    send(customer.nic_handle)
    assert not any(WILL_BE_OFF in m.body for m in mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        recovery_request_approve(recovery=RecoveryRequest.objects.get(), staff_user=staff,
                                 reason="ok")
    assert not any(TURNED_OFF in m.body for m in mail.outbox)


def test_an_approval_also_removes_security_keys_of_a_key_only_account(
    customer, staff, send, django_capture_on_commit_callbacks
):
    from accounts.models import SecurityKey
    from accounts.tests.soft_authenticator import SoftKey

    SoftKey().register(customer)
    services.backup_codes_regenerate(user=customer)
    send(customer.nic_handle)
    to_old = [m for m in mail.outbox if m.to == ["daniel@example.org"]][0]
    assert WILL_BE_OFF in to_old.body
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        recovery_request_approve(recovery=RecoveryRequest.objects.get(), staff_user=staff,
                                 reason="ID card checked")
    assert not SecurityKey.objects.filter(user=customer).exists()
    assert not BackupCode.objects.filter(user=customer).exists()
    assert sorted(m.to[0] for m in mail.outbox if TURNED_OFF in m.body) == [
        "daniel@example.org", "fresh@example.net"]
