"""The outbox's timings and the Celery settings they depend on: each test fails when one
side changes without the other."""

import pytest
from django.conf import settings
from django.core import mail

from notifications.delivery import MAX_RETRY_DELAY, SENDING_TIMEOUT, STALE_AFTER
from notifications.models import OutboundEmail
from notifications.services import email_queue
from notifications.tests.live import free_port, publishing_to
from portal.celery import app


@pytest.mark.django_db
def test_an_email_queued_while_the_broker_is_down_stays_queued_for_the_requeue_job(
    customer, django_capture_on_commit_callbacks
):
    with publishing_to(f"redis://127.0.0.1:{free_port()}/0"):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            row = email_queue(template="password_changed", to=customer.email, user=customer,
                              context={"ip": "198.51.100.7", "how": "change"})
    assert len(callbacks) == 1  # the publish was tried, after commit, and did not raise
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboundEmail.Status.QUEUED, 0)
    assert mail.outbox == []


def test_a_task_is_stopped_well_before_its_row_counts_as_abandoned():
    # The re-queue job takes a `sending` row back after SENDING_TIMEOUT: by then the
    # worker that had it must be gone (hard time limit), or it could still send it.
    assert 0 < app.conf.task_soft_time_limit < app.conf.task_time_limit
    assert app.conf.task_time_limit < SENDING_TIMEOUT.total_seconds()


def test_a_retry_waiting_in_a_worker_is_not_handed_to_another_one():
    # Redis hands an unacknowledged message to another worker after the visibility
    # timeout: it must outlast the longest retry countdown plus a run.
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert visibility > MAX_RETRY_DELAY.total_seconds() + app.conf.task_time_limit


def test_the_requeue_job_runs_before_a_lost_email_has_waited_twice_its_stale_time():
    job = next(job for job in settings.CELERY_BEAT_SCHEDULE.values()
               if job["task"] == "notifications.tasks.requeue_stale_emails_task")
    assert job["schedule"] <= STALE_AFTER.total_seconds()


def test_a_worker_keeps_its_database_connection_between_tasks():
    # Without it Celery's Django fix-up closes the connection around every task, and
    # every email opens a new PostgreSQL session whatever CONN_MAX_AGE says.
    from celery.fixups.django import DjangoWorkerFixup

    assert DjangoWorkerFixup(app).db_reuse_max >= 100
