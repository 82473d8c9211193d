import logging
from unittest import mock

import pytest
from django.db import transaction

from portal.queueing import task_named, task_send, task_send_on_commit

pytestmark = pytest.mark.django_db

TASK = "notifications.tasks.requeue_stale_emails_task"


@pytest.fixture
def delay():
    with mock.patch.object(task_named(TASK), "delay") as delay:
        yield delay


def test_a_task_leaves_only_once_the_transaction_commits(delay,
                                                         django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            task_send_on_commit(TASK, 7, 8)
            delay.assert_not_called()
    delay.assert_called_once_with(7, 8)


def test_nothing_leaves_when_the_transaction_rolls_back(delay,
                                                        django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            task_send_on_commit(TASK, 7)
            raise RuntimeError("the cause failed")
    assert callbacks == []
    delay.assert_not_called()


def test_a_broker_outage_is_logged_not_raised(delay, caplog):
    delay.side_effect = ConnectionRefusedError("broker down")
    with caplog.at_level(logging.WARNING, logger="portal.queueing"):
        assert task_send(TASK, 7) is False
    assert f"Could not enqueue {TASK}(7,)" in caplog.text
    assert "ConnectionRefusedError: broker down" in caplog.text


def test_a_published_task_says_so(delay):
    assert task_send(TASK, 7) is True


def test_a_name_that_is_no_task_fails_in_the_callers_transaction():
    with pytest.raises(KeyError), transaction.atomic():
        task_send_on_commit("notifications.tasks.no_such_task", 7)
    with pytest.raises(ModuleNotFoundError):
        task_send("notifications.no_such_module.some_task", 7)
