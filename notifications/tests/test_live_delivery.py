"""Delivery against real services: PostgreSQL, Redis, an SMTP server and Celery workers
in their own processes (see live.py). Each test stops, freezes or kills some of them.

No test sleeps and then asserts that nothing more happened: "one copy" is checked once
nothing is in flight any more (live.wait_settled: the broker holds no message and each
worker has ended every task it received)."""

import logging
import threading
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import F
from django.test import Client
from django.utils import timezone

from conftest import PASSWORD, signup_data
from notifications.models import OutboundEmail
from notifications.delivery import SENDING_TIMEOUT, STALE_AFTER, email_requeue_stale
from notifications.tasks import deliver_email_task
from notifications.tests.live import wait_until

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"


def unique_address(label):
    return f"{label}-{time.time_ns()}@example.org"


def sign_up(address):
    """A signup through the real view; a new browser each time."""
    response = Client().post("/signup/", signup_data(email=address, spare_email=""))
    assert response.status_code == 302, response.content.decode()[:2000]


def sign_up_within(address, seconds):
    """sign_up() in a thread of its own; fails the test, rather than hanging it, when the
    signup has not answered after `seconds`. Returns how long it took (for the log)."""
    outcome = []

    def run():
        started = time.monotonic()
        try:
            sign_up(address)
            outcome.append(time.monotonic() - started)
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            outcome.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, f"The signup had not answered after {seconds} s"
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


def enqueue_failures(caplog):
    return [record.getMessage() for record in caplog.records
            if record.name == "portal.queueing" and "Could not enqueue" in record.getMessage()]


def wait_until_sent(rows, count, timeout=60):
    wait_until(lambda: rows.filter(status=OutboundEmail.Status.SENT).count() == count,
               timeout=timeout, what=f"{count} row(s) marked sent")


def test_emails_queued_while_the_smtp_server_is_down_arrive_once_it_is_back(live):
    live.sink.stop()
    live.worker().start(concurrency=2)
    addresses = [unique_address(f"smtp-down-{n}") for n in range(3)]
    for address in addresses:
        sign_up(address)
    rows = OutboundEmail.objects.filter(to_address__in=addresses)
    wait_until(lambda: rows.filter(status=OutboundEmail.Status.QUEUED, attempts__gte=2)
               .exclude(last_error="").count() == 3,
               timeout=30, what="each email to fail twice while the sink is down")

    live.sink.start()
    wait_until_sent(rows, 3)
    live.wait_settled()

    for address in addresses:
        assert len(live.sink.messages(address)) == 1, address
    assert len(live.sink.messages()) == 3
    for row in rows:
        assert row.attempts >= 3 and row.sent_at is not None
        assert live.sink.messages(row.to_address)[0]["Message-ID"] == row.message_id


def test_a_signup_while_redis_is_down_succeeds_and_the_requeue_job_delivers_its_email(
    live, caplog
):
    live.worker().start()
    live.redis.stop()
    address = unique_address("redis-down")
    with caplog.at_level(logging.WARNING, logger="portal.queueing"):
        elapsed = sign_up_within(address, 30)
    print(f"\nSignup with Redis stopped answered in {elapsed:.3f} s")
    # The broker refused the connection and the signup went on: one attempt, no retry.
    [failure] = enqueue_failures(caplog)
    assert "Connection refused" in failure
    row = OutboundEmail.objects.get(to_address=address)
    assert (row.status, row.attempts) == (OutboundEmail.Status.QUEUED, 0)

    live.redis.start()
    assert email_requeue_stale(now=timezone.now() + STALE_AFTER + timedelta(seconds=1)) == 1
    assert len(live.sink.wait_for(address, timeout=60)) == 1
    wait_until_sent(OutboundEmail.objects.filter(pk=row.pk), 1)
    live.wait_settled()
    assert len(live.sink.messages(address)) == 1
    row.refresh_from_db()
    assert row.attempts == 1


def test_a_signup_while_redis_is_frozen_gives_up_on_the_broker_at_its_socket_timeout(
    live, caplog
):
    live.worker().start()
    live.redis.freeze()
    address = unique_address("redis-frozen")
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    try:
        with caplog.at_level(logging.WARNING, logger="portal.queueing"):
            # A guard against a signup that hangs, not a measure of speed.
            elapsed = sign_up_within(
                address, options["socket_connect_timeout"] + options["socket_timeout"] + 15)
    finally:
        live.redis.thaw()
    print(f"\nSignup with Redis frozen (SIGSTOP) answered in {elapsed:.3f} s")
    # The publish ended because the socket timed out, not because Redis answered.
    [failure] = enqueue_failures(caplog)
    assert "Timeout" in failure

    # Whether or not the frozen Redis took the task before it froze, the job's re-queue
    # and the worker's claim deliver it exactly once.
    email_requeue_stale(now=timezone.now() + STALE_AFTER + timedelta(seconds=1))
    assert len(live.sink.wait_for(address, timeout=60)) == 1
    wait_until_sent(OutboundEmail.objects.filter(to_address=address), 1)
    live.wait_settled()
    assert len(live.sink.messages(address)) == 1


def test_a_worker_killed_while_delivering_leaves_the_email_to_be_delivered_once(live):
    # The sink holds each RCPT for a minute: the worker is mid-conversation, and nothing
    # has been accepted, when it is killed.
    live.sink.stop()
    live.sink.start(rcpt_delay=60)
    doomed = live.worker("doomed")
    doomed.start()
    address = unique_address("killed-worker")
    sign_up(address)
    wait_until(lambda: address in live.sink.recipients_seen(), timeout=30,
               what="the worker to reach RCPT")
    row = OutboundEmail.objects.get(to_address=address)
    assert row.status == OutboundEmail.Status.SENDING

    doomed.kill()
    live.sink.stop()
    assert live.sink.messages(address) == []
    live.sink.start()
    survivor = live.worker("survivor")
    survivor.start()

    # The beat job, once the row has been `sending` too long (its claim moved back rather
    # than the job's clock forward: the task it publishes runs on the real clock).
    OutboundEmail.objects.filter(pk=row.pk).update(
        claimed_at=F("claimed_at") - SENDING_TIMEOUT - timedelta(seconds=1))
    assert email_requeue_stale() == 1
    assert len(live.sink.wait_for(address, timeout=60)) == 1
    wait_until_sent(OutboundEmail.objects.filter(pk=row.pk), 1)
    row.refresh_from_db()
    assert row.attempts == 2

    # A late copy of the task (Redis hands the dead worker's unacknowledged message back
    # after its visibility timeout) finds the row sent and sends nothing.
    assert survivor.deliveries_done() == 1
    deliver_email_task.delay(row.pk)
    wait_until(lambda: survivor.deliveries_done() == 2, timeout=30,
               what="the duplicate task to run")  # logged once the task has returned
    assert len(live.sink.messages(address)) == 1


def test_the_login_notification_arrives_with_the_ip_address_and_browser(live, customer):
    live.worker().start()
    browser = Client(REMOTE_ADDR="198.51.100.23", HTTP_USER_AGENT=FIREFOX_WINDOWS)
    response = browser.post("/login/", {"username": customer.nic_handle, "password": PASSWORD})
    assert response.status_code == 302

    messages = live.sink.wait_for(customer.email, timeout=60)
    assert len(messages) == 1
    message = messages[0]
    assert customer.nic_handle in message["Subject"]
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    for body in (text, html):
        assert "198.51.100.23" in body
        assert "Firefox 133" in body
        assert "Windows 10" in body
        assert customer.nic_handle in body
