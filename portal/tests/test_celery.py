"""How tasks leave a web process, seen from the outside: what a published message looks
like, and what publishing does when the broker refuses or stops answering. The bounds
come from the settings (CELERY_BROKER_TRANSPORT_OPTIONS, CELERY_TASK_PUBLISH_RETRY)."""

import socket
import threading

import pytest
from celery import current_app
from django.conf import settings
from kombu import Connection
from kombu.exceptions import EncodeError

from notifications.tests.live import free_port, publishing_to
from portal.queueing import task_named, task_send

TASK = "notifications.tasks.deliver_email_task"


class FakeBroker:
    """A TCP server on a free loopback port that counts the connections it accepts and
    then either hangs up at once or never says a word (a frozen Redis)."""

    def __init__(self, *, silent):
        self.silent = silent
        self.connections = []
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"redis://127.0.0.1:{self.server.getsockname()[1]}/0"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                connection, _address = self.server.accept()
            except OSError:
                return
            self.connections.append(connection)
            if not self.silent:
                connection.close()

    def close(self):
        self.server.close()
        for connection in self.connections:
            connection.close()


def publish_with_deadline(seconds):
    """task_send() in a thread; fails the test instead of hanging when it never returns."""
    outcome = []
    thread = threading.Thread(target=lambda: outcome.append(task_send(TASK, 1)), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"Publishing was still waiting for the broker after {seconds} s"
    return outcome[0]


def test_a_task_travels_as_json_and_refuses_what_json_cannot_carry():
    with publishing_to("memory://"):
        task_named(TASK).delay(42)
        with pytest.raises(EncodeError):
            task_named(TASK).delay(object())  # pickle would have carried it
        with Connection("memory://") as connection:
            queue = connection.SimpleQueue("celery")
            message = queue.get(timeout=1)
            queue.close()
    assert message.content_type == "application/json"
    assert message.headers["task"] == TASK and message.decode()[0] == [42]


def test_publishing_to_a_broker_that_hangs_up_tries_once_and_gives_up():
    broker = FakeBroker(silent=False)
    try:
        with publishing_to(broker.url):
            assert publish_with_deadline(10) is False
    finally:
        broker.close()
    assert len(broker.connections) == 1  # no reconnect-and-retry while a customer waits


def test_publishing_to_a_broker_that_never_answers_gives_up_after_the_socket_timeout():
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    broker = FakeBroker(silent=True)
    try:
        with publishing_to(broker.url):
            # Without a socket timeout this would wait for ever; with retries, it would
            # open more than one connection.
            assert publish_with_deadline(
                options["socket_connect_timeout"] + options["socket_timeout"] + 10) is False
    finally:
        broker.close()
    assert len(broker.connections) == 1


def test_publishing_to_a_port_nobody_listens_on_fails():
    with publishing_to(f"redis://127.0.0.1:{free_port()}/0"):
        assert publish_with_deadline(10) is False


def project_tasks():
    current_app.autodiscover_tasks(force=True)
    return {name: task for name, task in current_app.tasks.items()
            if name.split(".")[0] in {"accounts", "billing", "notifications", "support"}}


def test_every_beat_job_names_a_task_that_exists():
    tasks = project_tasks()
    assert settings.CELERY_BEAT_SCHEDULE
    for name, job in settings.CELERY_BEAT_SCHEDULE.items():
        assert job["task"] in tasks, f"Beat job {name} names no task: {job['task']}"


def test_every_task_is_acknowledged_when_done_and_handed_back_when_its_worker_dies():
    tasks = project_tasks()
    assert "notifications.tasks.deliver_email_task" in tasks
    for name, task in tasks.items():
        assert (task.acks_late, task.reject_on_worker_lost) == (True, True), name
