from django.conf import settings

from portal.celery import app


def test_tasks_travel_as_json_and_are_acknowledged_only_when_done():
    assert app.conf.task_serializer == "json" and app.conf.accept_content == ["json"]
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1


def test_a_task_has_soft_and_hard_time_limits_well_under_the_sending_timeout():
    from notifications.delivery import SENDING_TIMEOUT

    assert 0 < app.conf.task_soft_time_limit < app.conf.task_time_limit
    assert app.conf.task_time_limit < SENDING_TIMEOUT.total_seconds()


def test_publishing_never_retries_or_waits_long_for_the_broker():
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    assert app.conf.task_publish_retry is False
    assert options["max_retries"] == 0
    assert options["socket_connect_timeout"] <= 3 and options["socket_timeout"] <= 5


def test_a_retry_waiting_in_a_worker_is_not_handed_to_another_one():
    from notifications.delivery import MAX_RETRY_DELAY

    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert visibility > MAX_RETRY_DELAY.total_seconds() + app.conf.task_time_limit


def test_beat_requeues_stale_emails_every_minute():
    job = app.conf.beat_schedule["requeue-stale-emails"]
    assert job["task"] == "notifications.tasks.requeue_stale_emails_task"
    assert job["schedule"] == 60.0
