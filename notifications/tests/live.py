"""Private real services for the delivery tests and the benchmark: a Redis, an SMTP sink
and Celery workers of their own, on free loopback ports, so that a test can stop, freeze
or kill them without touching the shared ones that .ci/run starts.

Every process is started in its own process group and ended by that group's id."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import redis
from django.conf import settings
from kombu import pools

from conftest import Sink

ROOT = Path(__file__).resolve().parents[2]
# Transport options a test process publishes with: the portal's own bounds, without the
# filesystem transport's folders.
PUBLISH_OPTIONS = ("max_retries", "socket_connect_timeout", "socket_timeout",
                   "visibility_timeout")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_until(predicate, *, timeout, interval=0.1, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"Timed out after {timeout} s waiting for {what}")


class Service:
    """One subprocess and its log file."""

    def __init__(self, name, folder):
        self.name = name
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.log_path = self.folder / f"{name}.log"
        self.process = None

    def spawn(self, args, env=None):
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )

    @property
    def running(self):
        return self.process is not None and self.process.poll() is None

    def signal(self, signum):
        """Send `signum` to the whole process group (a Celery worker's pool too)."""
        try:
            os.killpg(self.process.pid, signum)
        except ProcessLookupError:
            pass

    def stop(self, *, grace=5.0):
        if self.process is None:
            return
        self.signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
        self.signal(signal.SIGKILL)  # whatever is left of the group
        self.process.wait(timeout=10)
        self.process = None

    def kill(self):
        """SIGKILL the whole group at once: no clean-up, no goodbye to the broker."""
        self.signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class RedisServer(Service):
    def __init__(self, folder, port=None):
        super().__init__("redis", folder)
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.spawn(["redis-server", "--bind", "127.0.0.1", "--port", str(self.port),
                    "--save", "", "--appendonly", "no", "--dir", str(self.folder)])
        wait_until(lambda: port_open(self.port), timeout=10, what="redis-server")

    def stop(self, **kwargs):
        super().stop(**kwargs)
        wait_until(lambda: not port_open(self.port), timeout=10, what="redis-server to stop")

    def pending(self):
        """Task messages this broker still holds: waiting in a queue, or handed to a
        worker and not yet acknowledged (an ETA retry, a task running). The tasks are
        acknowledged when done (acks_late), so 0 means none is in flight."""
        client = redis.Redis.from_url(self.url, socket_timeout=5)
        try:
            queued = sum(client.llen(key) for key in client.scan_iter("celery*")
                         if client.type(key) == b"list")
            return queued + client.hlen("unacked")
        finally:
            client.close()

    def freeze(self):
        """SIGSTOP: the port still accepts connections, nothing answers."""
        self.signal(signal.SIGSTOP)

    def thaw(self):
        self.signal(signal.SIGCONT)


class SmtpSink(Service):
    """tools/smtp_sink.py on a port of its own, restartable on that port, keeping every
    accepted message as a file under <folder>/mail."""

    def __init__(self, folder, port=None):
        super().__init__("sink", folder)
        self.port = port or free_port()
        self.mail = Sink(self.folder / "mail")
        self.control = self.folder / "control"

    def start(self, *, delay=0.0, rcpt_delay=0.0):
        self.spawn([sys.executable, "tools/smtp_sink.py", "--port", str(self.port),
                    "--dir", str(self.mail.folder), "--delay", str(delay),
                    "--rcpt-delay", str(rcpt_delay), "--control", str(self.control)])
        wait_until(lambda: port_open(self.port), timeout=15, what="the SMTP sink")

    def stop(self, **kwargs):
        super().stop(**kwargs)
        wait_until(lambda: not port_open(self.port), timeout=10, what="the SMTP sink to stop")

    def messages(self, to=None):
        return self.mail.messages(to) if self.mail.folder.exists() else []

    def wait_for(self, to, count=1, timeout=30):
        self.mail.folder.mkdir(parents=True, exist_ok=True)
        return self.mail.wait_for(to, count=count, timeout=timeout)

    def answer(self, mode):
        """How the running sink answers RCPT from now on: "accept", "tempfail" (451) or
        "hold" (see tools/smtp_sink.py)."""
        partial = self.control.with_suffix(".tmp")
        partial.write_text(mode)
        partial.rename(self.control)

    def held(self):
        """(address, client port) of every RCPT the sink has held so far."""
        return [tuple(line.split(" ")[1:3]) for line in self.log().splitlines()
                if line.startswith("HOLD ")]

    def recipients_seen(self):
        """Addresses given in RCPT commands so far, accepted or not."""
        return [line.split(" ", 1)[1].strip() for line in self.log().splitlines()
                if line.startswith("RCPT ")]


def database_url(settings_dict):
    """A DATABASE_URL for another process to open the database this process uses (the
    test database, under pytest)."""
    name = settings_dict["NAME"]
    if settings_dict["ENGINE"].endswith("sqlite3"):
        if not name or "memory" in str(name):
            raise ValueError("An in-memory SQLite database cannot be shared with a worker")
        return f"sqlite:///{name}"
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if user else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{credentials}{host}:{port}/{quote(str(name), safe='')}"


TASK_EVENT = re.compile(r"Task (?P<task>[\w.]+)\[[0-9a-f-]+\] (?P<event>received|succeeded|retry|raised)")


class CeleryWorker(Service):
    """`celery -A portal worker` with the real settings (not the test settings), on the
    given database, broker and SMTP port."""

    def __init__(self, folder, *, database, broker_url, smtp_port, name="worker", **env):
        super().__init__(name, folder)
        kept = {key: value for key, value in os.environ.items()
                if not key.startswith(("DJANGO_", "DATABASE_", "EMAIL_", "CELERY_", "PORTAL_",
                                       "CACHE_", "SMTP_SINK"))}
        self.env = {
            **kept,
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            # The web side's key: the worker opens the codes and links sealed with it.
            "DJANGO_SECRET_KEY": settings.SECRET_KEY,
            "DATABASE_URL": database,
            "CELERY_BROKER_URL": broker_url,
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_port),
            "PORTAL_VAR_DIR": str(self.folder / "var"),
            "PORTAL_ENV_FILE": "",  # a developer's .env (debug on) is not this worker's
            "PORTAL_BASE_URL": settings.PORTAL_BASE_URL,
            "CACHE_URL": "locmem://",
            "PYTHONPATH": str(ROOT),
            **env,
        }

    def start(self, *, concurrency=1):
        started = len(self.log())
        self.spawn([sys.executable, "-m", "celery", "-A", "portal", "worker",
                    "--loglevel=INFO", f"--concurrency={concurrency}", "--pool=prefork",
                    f"--hostname={self.name}-{os.getpid()}@%h",
                    "--without-gossip", "--without-mingle", "--without-heartbeat"],
                   env=self.env)
        wait_until(lambda: " ready." in self.log()[started:] or not self.running,
                   timeout=60, what=f"{self.name} to be ready")
        assert self.running, self.log()[-3000:]

    def task_events(self, task="notifications.tasks.deliver_email_task"):
        """{"received": n, "succeeded": n, "retry": n, "raised": n} from this worker's log."""
        counts = dict.fromkeys(("received", "succeeded", "retry", "raised"), 0)
        for match in TASK_EVENT.finditer(self.log()):
            if match["task"] == task:
                counts[match["event"]] += 1
        return counts

    def deliveries_done(self):
        """How many delivery tasks this worker has finished and acknowledged as done."""
        return self.task_events()["succeeded"]

    def idle(self):
        """Every delivery task this worker received has ended: sent, put off for a retry
        (a new message), or failed."""
        events = self.task_events()
        return events["received"] == events["succeeded"] + events["retry"] + events["raised"]


@contextmanager
def publishing_to(broker_url, **transport_options):
    """Make this process's Celery app send tasks to `broker_url` for real (not eagerly),
    then put everything back. The write URL is set because CELERY_BROKER_URL in the
    environment (as under .ci/run) would win over a changed broker_url."""
    from portal.celery import app

    conf = app.conf
    saved = {key: conf.get(key) for key in
             ("broker_write_url", "broker_transport_options", "task_always_eager")}
    options = {key: value for key, value in settings.CELERY_BROKER_TRANSPORT_OPTIONS.items()
               if key in PUBLISH_OPTIONS}
    reset_producers()
    conf.update(broker_write_url=broker_url, task_always_eager=False,
                broker_transport_options={**options, **transport_options})
    try:
        yield app
    finally:
        reset_producers()
        conf.update(saved)


def reset_producers():
    """Close every pooled broker connection of this process; the next publish opens a
    new one with the current configuration."""
    from portal.celery import app

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None
