import smtplib
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from notifications import delivery, services
from notifications.delivery import DELIVER_TASK, email_deliver, email_requeue_stale
from notifications.kinds import email_kinds
from notifications.models import OutboundEmail
from notifications.rendering import email_render
from notifications.services import email_queue

pytestmark = pytest.mark.django_db


def queue_welcome(user):
    return email_queue(template="account_created", to=user.email, user=user,
                       secrets={"confirm_url": "http://portal.test/signup/confirm/x/"})


def test_an_email_is_rendered_in_the_customers_language(customer):
    customer.language = "es"
    row = queue_welcome(customer)
    assert row.language == "es"
    assert customer.nic_handle in row.subject
    assert customer.nic_handle in row.body_text and customer.nic_handle in row.body_html


def test_delivery_sends_the_row_once_and_marks_it_sent(customer):
    row = queue_welcome(customer)
    assert email_deliver(email_id=row.pk) is True
    assert email_deliver(email_id=row.pk) is False
    assert len(mail.outbox) == 1
    row.refresh_from_db()
    assert row.status == OutboundEmail.Status.SENT
    assert row.attempts == 1 and row.sent_at is not None
    assert mail.outbox[0].extra_headers["Message-ID"] == row.message_id


def test_nothing_is_queued_when_the_transaction_rolls_back(customer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            queue_welcome(customer)
            raise RuntimeError("the cause failed")
    assert not OutboundEmail.objects.exists()
    assert callbacks == []
    assert mail.outbox == []


def test_a_temporary_smtp_failure_keeps_the_row_queued_with_back_off(customer):
    row = queue_welcome(customer)
    with mock.patch("django.core.mail.EmailMultiAlternatives.send",
                    side_effect=smtplib.SMTPConnectError(421, "try later")):
        with pytest.raises(delivery.TemporaryDeliveryError) as caught:
            email_deliver(email_id=row.pk)
    assert caught.value.retry_in == timedelta(seconds=30)
    row.refresh_from_db()
    assert row.status == OutboundEmail.Status.QUEUED
    assert "421" in row.last_error
    assert row.next_attempt_at > timezone.now()


def test_a_permanent_smtp_refusal_fails_the_row_at_once(customer):
    row = queue_welcome(customer)
    refused = smtplib.SMTPRecipientsRefused({customer.email: (550, b"no such user")})
    with mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=refused):
        email_deliver(email_id=row.pk)
    row.refresh_from_db()
    assert row.status == OutboundEmail.Status.FAILED
    assert "550" in row.last_error


def test_the_row_fails_after_the_last_attempt(customer):
    row = queue_welcome(customer)
    OutboundEmail.objects.filter(pk=row.pk).update(attempts=delivery.MAX_ATTEMPTS - 1)
    with mock.patch("django.core.mail.EmailMultiAlternatives.send",
                    side_effect=ConnectionRefusedError("refused")):
        email_deliver(email_id=row.pk)
    row.refresh_from_db()
    assert row.status == OutboundEmail.Status.FAILED
    assert "ConnectionRefusedError" in row.last_error


def test_back_off_doubles_and_is_capped():
    delays = [delivery.retry_delay(n).total_seconds() for n in (1, 2, 3, 4, 20)]
    assert delays == [30, 60, 120, 240, 3600]


def test_the_requeue_job_hands_back_rows_the_broker_lost(customer):
    row = queue_welcome(customer)
    later = timezone.now() + timedelta(minutes=6)
    with mock.patch("notifications.delivery.task_send") as enqueue:
        assert email_requeue_stale(now=later) == 1
        assert email_requeue_stale(now=later) == 0
    enqueue.assert_called_once_with(DELIVER_TASK, row.pk)


def test_the_requeue_job_leaves_fresh_rows_alone(customer):
    queue_welcome(customer)
    with mock.patch("notifications.delivery.task_send") as enqueue:
        assert email_requeue_stale(now=timezone.now() + timedelta(minutes=1)) == 0
    enqueue.assert_not_called()


def test_the_requeue_job_rescues_a_row_whose_worker_died(customer):
    row = queue_welcome(customer)
    OutboundEmail.objects.filter(pk=row.pk).update(
        status=OutboundEmail.Status.SENDING, claimed_at=timezone.now(), attempts=1)
    with mock.patch("notifications.delivery.task_send") as enqueue:
        assert email_requeue_stale(now=timezone.now() + timedelta(minutes=16)) == 1
    enqueue.assert_called_once_with(DELIVER_TASK, row.pk)
    row.refresh_from_db()
    assert row.status == OutboundEmail.Status.QUEUED


def test_a_broker_outage_does_not_break_the_cause(customer, django_capture_on_commit_callbacks):
    with mock.patch("notifications.tasks.deliver_email_task.delay",
                    side_effect=ConnectionError("broker down")):
        with django_capture_on_commit_callbacks(execute=True):
            row = queue_welcome(customer)
    row.refresh_from_db()
    assert row.status == OutboundEmail.Status.QUEUED


def test_the_console_backend_keeps_a_copy_under_var_mail(settings, tmp_path, customer):
    settings.EMAIL_BACKEND = "notifications.backends.ConsoleAndFileEmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path
    row = queue_welcome(customer)
    email_deliver(email_id=row.pk)
    files = list(tmp_path.glob("*.eml"))
    assert len(files) == 1
    assert customer.nic_handle in files[0].read_text()


def send_failing_with(row, error):
    with mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=error):
        try:
            email_deliver(email_id=row.pk)
        except delivery.TemporaryDeliveryError:
            pass
    row.refresh_from_db()
    return row


@pytest.mark.parametrize("error", [
    smtplib.SMTPRecipientsRefused({"daniel@example.org": (450, b"mailbox busy")}),
    smtplib.SMTPServerDisconnected("Connection unexpectedly closed"),
    TimeoutError("timed out"),
    smtplib.SMTPAuthenticationError(535, b"bad credentials"),
    smtplib.SMTPSenderRefused(553, b"sender not allowed", "no-reply@portal.example"),
], ids=["4xx-recipient", "disconnected", "timeout", "5xx-login", "5xx-sender"])
def test_a_failure_that_is_not_about_this_recipient_or_message_is_retried(customer, error):
    row = send_failing_with(queue_welcome(customer), error)
    assert row.status == OutboundEmail.Status.QUEUED
    assert row.attempts == 1 and row.last_error


def test_a_message_refused_with_a_5xx_fails_at_once(customer):
    row = send_failing_with(queue_welcome(customer), smtplib.SMTPDataError(554, b"rejected"))
    assert row.status == OutboundEmail.Status.FAILED
    assert row.last_error == "Message refused: 554 rejected"


def test_an_unexpected_error_does_not_leave_the_row_sending(customer):
    row = send_failing_with(queue_welcome(customer), ValueError("bad header"))
    assert row.status == OutboundEmail.Status.QUEUED
    assert row.last_error == "ValueError: bad header"


def test_the_message_id_stays_the_same_across_attempts(customer):
    row = send_failing_with(queue_welcome(customer), ConnectionRefusedError("refused"))
    assert email_deliver(email_id=row.pk) is True
    assert mail.outbox[0].extra_headers["Message-ID"] == row.message_id
    assert row.message_id.startswith(f"<outbox-{row.pk}@")


def test_the_back_off_starts_from_the_configured_delay(settings):
    settings.EMAIL_RETRY_BASE_DELAY = 1
    assert [delivery.retry_delay(n).total_seconds() for n in (1, 2, 3, 13)] == [1, 2, 4, 3600]


def test_the_task_asks_celery_to_retry_after_the_back_off(customer):
    from celery.exceptions import Retry

    from notifications.tasks import deliver_email_task

    row = queue_welcome(customer)
    with mock.patch("django.core.mail.EmailMultiAlternatives.send",
                    side_effect=ConnectionRefusedError("refused")), \
            mock.patch.object(deliver_email_task, "retry", side_effect=Retry()) as retry:
        with pytest.raises(Retry):
            deliver_email_task(row.pk)
    assert retry.call_args.kwargs["countdown"] == 30


def test_the_requeue_job_fails_a_row_that_lost_its_worker_on_its_last_attempt(customer):
    row = queue_welcome(customer)
    OutboundEmail.objects.filter(pk=row.pk).update(
        status=OutboundEmail.Status.SENDING, claimed_at=timezone.now(),
        attempts=delivery.MAX_ATTEMPTS)
    with mock.patch("notifications.delivery.task_send") as enqueue:
        assert email_requeue_stale(now=timezone.now() + timedelta(minutes=6)) == 0
    enqueue.assert_not_called()
    row.refresh_from_db()
    assert row.status == OutboundEmail.Status.FAILED
    assert row.last_error == delivery.WORKER_LOST


def test_the_requeue_job_leaves_a_row_being_sent_alone(customer):
    row = queue_welcome(customer)
    OutboundEmail.objects.filter(pk=row.pk).update(
        status=OutboundEmail.Status.SENDING, claimed_at=timezone.now(), attempts=1)
    with mock.patch("notifications.delivery.task_send") as enqueue:
        assert email_requeue_stale(now=timezone.now() + timedelta(minutes=2)) == 0
    enqueue.assert_not_called()
    row.refresh_from_db()
    assert row.status == OutboundEmail.Status.SENDING


def test_a_sent_row_is_never_sent_again_by_a_late_duplicate_task(customer):
    row = queue_welcome(customer)
    email_deliver(email_id=row.pk)
    with mock.patch("notifications.delivery.task_send"):
        email_requeue_stale(now=timezone.now() + timedelta(days=1))
    assert email_deliver(email_id=row.pk) is False
    assert len(mail.outbox) == 1


def test_emails_are_dated_in_utc_whatever_the_active_time_zone(customer):
    from datetime import datetime
    from datetime import timezone as dt_timezone

    when = datetime(2026, 11, 27, 17, 5, tzinfo=dt_timezone.utc)
    with timezone.override("Asia/Tokyo"):
        _subject, text, _html = email_render(
            template="login_notification", language="en",
            context={"user": customer, "nic_handle": customer.nic_handle, "when": when,
                     "ip_address": "", "browser": "", "system": ""})
    assert "5:05 p.m. (UTC)" in text


def test_a_kind_the_customer_switched_off_is_not_queued(customer):
    customer.login_notifications = False
    row = services.email_queue(template="login_notification", to=customer.email, user=customer,
                               context={"when": timezone.now()})
    assert row is None
    assert not OutboundEmail.objects.exists()


def test_security_emails_can_never_be_switched_off(customer):
    kinds = email_kinds()
    assert not [kind.name for kind in kinds if kind.security and kind.switch]
    for kind in kinds:
        if kind.switch:
            setattr(customer, kind.switch, False)
    for kind in kinds:
        if kind.security:
            assert services.email_is_wanted(user=customer, kind=kind.name)
    assert not services.email_is_wanted(user=customer, kind="login_notification")


def test_the_requeue_job_stops_at_the_first_row_the_broker_refuses(customer):
    for _ in range(3):
        queue_welcome(customer)
    with mock.patch("notifications.delivery.task_send", return_value=False) as enqueue:
        assert email_requeue_stale(now=timezone.now() + timedelta(minutes=6)) == 0
    assert enqueue.call_count == 1


def test_an_email_sent_while_the_database_restarts_is_marked_sent_not_sent_again(
    customer, monkeypatch
):
    # Found by portal/tests/test_faults_under_load.py: the server accepted the message,
    # then the database went away for a moment (a restart) before the row was marked
    # sent; the row stayed `sending` and the re-queue job sent it a second time.
    from django.db import OperationalError

    row = queue_welcome(customer)
    record_sent = delivery._record_sent
    calls = []

    def database_restarting_once(email_id):
        calls.append(email_id)
        if len(calls) == 1:
            raise OperationalError("terminating connection due to administrator command")
        record_sent(email_id)

    monkeypatch.setattr(delivery, "_record_sent", database_restarting_once)
    monkeypatch.setattr(delivery.time, "sleep", lambda seconds: None)
    assert email_deliver(email_id=row.pk) is True
    row.refresh_from_db()
    assert row.status == OutboundEmail.Status.SENT
    assert calls == [row.pk, row.pk]
    assert len(mail.outbox) == 1
    assert email_requeue_stale(now=timezone.now() + delivery.SENDING_TIMEOUT * 2) == 0
    assert len(mail.outbox) == 1


def test_a_database_that_stays_away_leaves_the_row_to_the_requeue_job(customer, monkeypatch):
    from django.db import OperationalError

    row = queue_welcome(customer)

    def database_down(email_id):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(delivery, "_record_sent", database_down)
    monkeypatch.setattr(delivery, "MARK_SENT_PATIENCE", 0.0)
    with pytest.raises(OperationalError):
        email_deliver(email_id=row.pk)
    row.refresh_from_db()
    assert row.status == OutboundEmail.Status.SENDING
