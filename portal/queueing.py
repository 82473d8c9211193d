"""Hand work to a Celery worker once the transaction commits, and survive a broker outage.

The row that describes the work (an email, a reset request, an invoice to render) is
written in the transaction of its cause; the task message only says "go". So the message
leaves after commit (a worker never looks for a row that is not there yet), and a broker
that cannot be reached is logged, not raised: the customer's request has already
succeeded, and each app's re-queue job hands the row over later.

Tasks are named, not imported: a service enqueues the task that will call it back, and
naming it keeps that a one-way import (tasks -> services).
"""

import logging
from importlib import import_module

from celery import current_app
from django.db import transaction

log = logging.getLogger(__name__)


def task_named(name: str):
    """The registered Celery task `name` ("app.tasks.thing_task"), importing its module
    if no one has yet (a web process imports no tasks module by itself)."""
    tasks = current_app.tasks
    if name not in tasks:
        import_module(name.rpartition(".")[0])
    return tasks[name]


def task_send(name: str, *args) -> bool:
    """Publish the task now; False (and a warning) when the broker could not be reached.
    A name that is no task raises: that is a bug, not an outage."""
    task = task_named(name)
    try:
        task.delay(*args)
    except Exception as exc:
        log.warning("Could not enqueue %s%r (%s: %s); its re-queue job will hand it over",
                    name, args, type(exc).__name__, exc)
        return False
    return True


def task_send_on_commit(name: str, *args) -> None:
    """Publish the task once the current transaction commits (at once outside one);
    nothing if it rolls back. A broker outage is logged, never raised."""
    task_named(name)  # a wrong name fails here, in the cause's transaction
    transaction.on_commit(lambda: task_send(name, *args))
