"""Delivery in batches: one task claims the due rows and sends them over one SMTP
connection, each row claimed before it is sent and marked as soon as it is."""

import smtplib
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from conftest import run_at_once
from notifications import delivery
from notifications.delivery import email_deliver, email_deliver_due, email_requeue_stale
from notifications.models import OutboundEmail
from notifications.services import email_queue

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def batches_as_in_production(settings):
    settings.EMAIL_DELIVERY_BATCH = 50  # the test settings send one row per task


def queue(user, count=1):
    return [email_queue(template="password_changed", to=user.email, user=user,
                        context={"ip": "198.51.100.7", "how": "change"}) for _ in range(count)]


@pytest.fixture
def backend():
    """A stand-in SMTP backend that records each connection it opens."""
    delivery.mail_connection_close()
    fake = mock.Mock(name="backend")
    fake.send_messages.return_value = 1
    with mock.patch("notifications.delivery.get_connection", return_value=fake) as made:
        fake.made = made
        yield fake
    delivery.mail_connection_close()


def statuses():
    return sorted(OutboundEmail.objects.values_list("status", flat=True))


def test_one_task_sends_every_due_row_over_one_connection(customer, backend):
    rows = queue(customer, 5)
    assert email_deliver_due(email_id=rows[0].pk) == {}
    assert backend.made.call_count == 1 and backend.send_messages.call_count == 5
    assert statuses() == ["sent"] * 5
    assert set(OutboundEmail.objects.values_list("attempts", flat=True)) == {1}
    # The other rows' own tasks find nothing left to send.
    assert email_deliver_due(email_id=rows[1].pk) == {}
    assert backend.send_messages.call_count == 5


def test_a_batch_takes_at_most_its_size_oldest_first(customer, settings):
    settings.EMAIL_DELIVERY_BATCH = 3
    rows = queue(customer, 5)
    email_deliver_due(email_id=rows[0].pk)
    sent = set(OutboundEmail.objects.filter(status="sent").values_list("pk", flat=True))
    assert sent == {row.pk for row in rows[:3]}
    email_deliver_due(email_id=rows[3].pk)
    assert statuses() == ["sent"] * 5 and len(mail.outbox) == 5


def test_a_row_waiting_for_its_back_off_is_not_taken_by_another_rows_batch(customer):
    waiting, fresh = queue(customer, 2)
    OutboundEmail.objects.filter(pk=waiting.pk).update(
        next_attempt_at=timezone.now() + timedelta(seconds=30), attempts=1)
    email_deliver_due(email_id=fresh.pk)
    waiting.refresh_from_db()
    assert waiting.status == "queued" and len(mail.outbox) == 1


def test_a_late_task_for_a_row_waiting_for_its_back_off_leaves_it_waiting(customer):
    """A row that failed in other rows' batches has collected a task each time: those
    that run before its due time leave it alone, the one that runs then sends it."""
    row = queue(customer)[0]
    OutboundEmail.objects.filter(pk=row.pk).update(
        next_attempt_at=timezone.now() + timedelta(seconds=30), attempts=3)
    assert email_deliver_due(email_id=row.pk) == {}
    row.refresh_from_db()
    assert (row.status, row.attempts, len(mail.outbox)) == ("queued", 3, 0)
    OutboundEmail.objects.filter(pk=row.pk).update(
        next_attempt_at=timezone.now() + delivery.OWN_ROW_EARLY / 2)
    email_deliver_due(email_id=row.pk)
    row.refresh_from_db()
    assert (row.status, row.attempts, len(mail.outbox)) == ("sent", 4, 1)


def test_a_first_attempt_goes_out_whatever_its_due_time(customer):
    row = queue(customer)[0]
    OutboundEmail.objects.filter(pk=row.pk).update(
        next_attempt_at=timezone.now() + timedelta(minutes=5))
    email_deliver_due(email_id=row.pk)
    assert statuses() == ["sent"] and len(mail.outbox) == 1


def test_a_temporary_failure_in_a_batch_puts_that_row_back_and_sends_the_others(customer):
    rows = queue(customer, 3)
    real_send = mail.EmailMultiAlternatives.send
    calls = []

    def second_one_fails(message, *args, **kwargs):
        calls.append(message)
        if len(calls) == 2:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return real_send(message, *args, **kwargs)

    with mock.patch("django.core.mail.EmailMultiAlternatives.send", second_one_fails):
        postponed = email_deliver_due(email_id=rows[0].pk)
    assert list(postponed) == [rows[1].pk]
    assert postponed[rows[1].pk].retry_in == timedelta(seconds=30)
    by_pk = dict(OutboundEmail.objects.values_list("pk", "status"))
    assert by_pk == {rows[0].pk: "sent", rows[1].pk: "queued", rows[2].pk: "sent"}


def test_the_task_retries_its_own_row_and_schedules_another_rows_retry(customer):
    from celery.exceptions import Retry

    from notifications.tasks import deliver_email_task

    own, other = queue(customer, 2)
    with mock.patch("django.core.mail.EmailMultiAlternatives.send",
                    side_effect=ConnectionRefusedError("refused")), \
            mock.patch.object(deliver_email_task, "retry", side_effect=Retry()) as retry, \
            mock.patch.object(deliver_email_task, "apply_async") as scheduled:
        with pytest.raises(Retry):
            deliver_email_task(own.pk)
    assert retry.call_args.kwargs["countdown"] == 30
    scheduled.assert_called_once_with((other.pk,), countdown=30.0)


class WorkerKilled(BaseException):
    """What a killed worker looks like from inside: nothing after it runs."""


def test_a_worker_dying_mid_batch_leaves_the_unsent_rows_to_the_requeue_job(customer):
    rows = queue(customer, 4)
    real_send = mail.EmailMultiAlternatives.send
    calls = []

    def dies_at_the_third(message, *args, **kwargs):
        calls.append(message)
        if len(calls) == 3:
            raise WorkerKilled
        return real_send(message, *args, **kwargs)

    with mock.patch("django.core.mail.EmailMultiAlternatives.send", dies_at_the_third):
        with pytest.raises(WorkerKilled):
            email_deliver_due(email_id=rows[0].pk)
    delivery.mail_connection_close()
    assert statuses() == ["sending", "sending", "sent", "sent"]
    # Nobody takes the claimed rows before their claim expires...
    assert email_deliver_due(email_id=rows[2].pk) == {}
    assert len(mail.outbox) == 2
    # ...then the re-queue job hands them back and each goes out once.
    with mock.patch("notifications.delivery.task_send"):
        email_requeue_stale(now=timezone.now() + delivery.SENDING_TIMEOUT + timedelta(minutes=1))
    OutboundEmail.objects.filter(status="queued").update(next_attempt_at=timezone.now())
    email_deliver_due(email_id=rows[2].pk)
    assert statuses() == ["sent"] * 4
    assert sorted(m.extra_headers["Message-ID"] for m in mail.outbox) == sorted(
        row.message_id for row in OutboundEmail.objects.all())


def test_a_single_delivery_still_claims_its_row_once(customer):
    row = queue(customer)[0]
    assert email_deliver(email_id=row.pk) is True
    assert email_deliver_due(email_id=row.pk) == {}
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_batches_running_at_once_send_each_row_once(postgres, customer, settings):
    settings.EMAIL_DELIVERY_BATCH = 7
    with mock.patch("notifications.services.task_send_on_commit"):  # no eager delivery
        rows = queue(customer, 60)
    sent_ids = []

    def record(message, *args, **kwargs):
        sent_ids.append(message.extra_headers["Message-ID"])
        return 1

    def work(n):
        total = 0
        while True:
            claimed = delivery._claim_due(email_id=rows[n].pk, limit=7)
            if not claimed:
                return total
            for email in claimed:
                delivery._send_claimed(email)
            total += len(claimed)

    with mock.patch("django.core.mail.EmailMultiAlternatives.send", record):
        results, errors = run_at_once(work, 4)
    assert errors == []
    assert sum(results) == 60
    assert sorted(sent_ids) == sorted(row.message_id for row in rows)
    assert statuses() == ["sent"] * 60
    assert connection.vendor == "postgresql"
