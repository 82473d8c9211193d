import logging
import os
import time

from celery import Celery, bootsteps
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
logger = logging.getLogger(__name__)


@task_prerun.connect
@task_postrun.connect
def close_old_database_connections(sender=None, **kwargs):
    """Between tasks, what Django does between requests: close a connection that broke
    or has outlived CONN_MAX_AGE. The fix-up keeps it otherwise (CELERY_DB_REUSE_MAX).
    Not in eager mode, where the task runs inside the caller's transaction."""
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()


class LivenessFile(bootsteps.StartStopStep):
    """Touch settings.WORKER_LIVENESS_FILE every WORKER_LIVENESS_INTERVAL seconds while
    this worker can do its job, for a supervisor's liveness probe
    (`python -m portal.liveness FILE --max-age N`, see the README).

    The timer runs in the worker's event loop, so a stuck loop stops the file. And a
    live loop is not enough: when an acknowledgement fails (Redis frozen: "Couldn't ack
    ... TimeoutError"), kombu keeps the message counted as unacknowledged for ever, the
    prefetch window (one task) stays full and the worker never asks Redis for another
    task while everything else looks fine. So the file is touched only while the worker
    holds a task or its channel may take one. `%h` in the path is the worker's name."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, c, **kwargs):
        from django.conf import settings

        self.path = settings.WORKER_LIVENESS_FILE.replace("%h", c.hostname or "")
        self.interval = settings.WORKER_LIVENESS_INTERVAL
        self.tref = None
        super().__init__(c, **kwargs)

    def include_if(self, c):
        return bool(self.path)

    def start(self, c):
        self.tick(c)
        self.tref = c.timer.call_repeatedly(self.interval, self.tick, (c,), priority=10)

    def stop(self, c):
        if self.tref is not None:
            c.timer.cancel(self.tref)
            self.tref = None

    shutdown = stop

    def tick(self, c):
        if not worker_can_take_work(c):
            logger.warning("Liveness file not touched: no task held and the channel "
                           "takes none (prefetch window full)")
            return
        partial = f"{self.path}.partial"
        with open(partial, "w") as handle:
            handle.write(f"{time.time():.0f}\n")
        os.replace(partial, self.path)


def worker_can_take_work(c):
    """True while the worker holds a task (running, or received and waiting for the
    pool) or its task channel is below its prefetch limit."""
    from celery.worker import state

    if state.reserved_requests:
        return True
    channel = getattr(c.task_consumer, "channel", None)
    can_consume = getattr(getattr(channel, "qos", None), "can_consume", None)
    return True if can_consume is None else bool(can_consume())


app.steps["consumer"].add(LivenessFile)
