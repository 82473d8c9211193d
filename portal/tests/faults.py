"""The services of the fault test (test_faults_under_load.py), all of its own: a
PostgreSQL cluster made with initdb, Redis, the SMTP sink, gunicorn, Celery workers and
beat, on loopback ports, each in its own process group, ended by that group's id.

FAULTS_PORT_BASE=N puts them on ports N..N+4 (PostgreSQL, Redis, SMTP, two web
servers); without it, on free ports."""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import psycopg

from notifications.tests.live import (
    ROOT, CeleryWorker, RedisServer, Service, SmtpSink, free_port, port_open, wait_until,
)

# Variables of this process that must not leak into the test's own services.
FOREIGN_PREFIXES = ("DJANGO_", "DATABASE_", "EMAIL_", "CELERY_", "PORTAL_", "CACHE_",
                    "SMTP_SINK", "BEAT_", "TASK_", "BROKER_", "INVOICE_")


# The workers touch their liveness file every LIVENESS_INTERVAL seconds (portal.celery.
# LivenessFile); the test's supervisor restarts one whose file is LIVENESS_MAX_AGE old.
LIVENESS_INTERVAL = 2
LIVENESS_MAX_AGE = 20


def postgres_bin():
    """The newest Debian PostgreSQL's binaries, or None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda path: int(re.sub(r"\D", "", path.parts[-3]) or 0))
    return found[-1].parent if found else None


def ports():
    base = os.environ.get("FAULTS_PORT_BASE")
    if base:
        return [int(base) + n for n in range(5)]
    return [free_port() for _ in range(5)]


class PostgresCluster:
    """initdb into a folder of its own, started and restarted with pg_ctl (as the
    `postgres` user when this runs as root, as .ci/run does)."""

    def __init__(self, folder, port):
        self.bin = postgres_bin()
        self.folder = Path(folder)
        self.data = self.folder / "data"
        self.log_path = self.folder / "postgres.log"
        self.port = port
        self.started = False

    def _run(self, *args, timeout=60, check=True):
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        return subprocess.run(prefix + [str(arg) for arg in args], check=check,
                              capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)

    def _options(self):
        return (f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c max_connections=100 -c full_page_writes=off")

    def start(self):
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run(self.bin / "initdb", "-D", self.data, "-A", "trust", "-U", "postgres",
                  "-E", "UTF8", timeout=120)
        self._run(self.bin / "pg_ctl", "-D", self.data, "-l", self.log_path, "-w", "-t", "60",
                  "-o", self._options(), "start", timeout=90)
        self.started = True
        conn = self.connect("postgres")
        conn.autocommit = True
        try:
            with conn.cursor() as cursor:
                cursor.execute("CREATE DATABASE portal")
        finally:
            conn.close()

    def restart_fast(self):
        """Fast shutdown (every session is ended, open transactions rolled back), then
        start again."""
        self._run(self.bin / "pg_ctl", "-D", self.data, "-l", self.log_path, "-m", "fast",
                  "-w", "-t", "60", "-o", self._options(), "restart", timeout=90)

    def stop(self):
        if self.started:
            self._run(self.bin / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "-t", "30",
                      "stop", timeout=60, check=False)
            self.started = False

    def url(self, name="portal"):
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def connect(self, name="portal"):
        return psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=name,
                                connect_timeout=5)

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class Gunicorn(Service):
    def __init__(self, folder, *, port, env, name):
        super().__init__(name, folder)
        self.port = port
        self.env = env

    def start(self):
        self.spawn([sys.executable, "-m", "gunicorn", "portal.wsgi:application",
                    "--bind", f"127.0.0.1:{self.port}", "--workers", "2", "--timeout", "30",
                    "--graceful-timeout", "5", "--access-logfile", "-"], env=self.env)
        wait_until(lambda: port_open(self.port) or not self.running, timeout=60,
                   what=f"gunicorn on port {self.port}")
        assert self.running, self.log()[-3000:]


class Beat(Service):
    def __init__(self, folder, *, env, name="beat"):
        super().__init__(name, folder)
        self.env = env

    def start(self):
        started = len(self.log())
        self.spawn([sys.executable, "-m", "celery", "-A", "portal", "beat", "--loglevel=INFO",
                    "--schedule", str(self.folder / "beat-schedule")], env=self.env)
        wait_until(lambda: "beat: Starting" in self.log()[started:] or not self.running,
                   timeout=60, what=f"{self.name} to start")
        assert self.running, self.log()[-3000:]


class Stack:
    """Everything the fault test runs, started in order and stopped in `close()` (which
    never raises, so that a failure cannot leave a process behind)."""

    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="portal-faults-"))
        os.chmod(self.folder, 0o755)  # the postgres user reaches its own folder inside
        pg_port, redis_port, smtp_port, *web_ports = ports()
        self.postgres = PostgresCluster(self.folder / "postgres", pg_port)
        self.redis = RedisServer(self.folder / "redis", port=redis_port)
        self.sink = SmtpSink(self.folder / "sink", port=smtp_port)
        self.secret_key = f"faults-test-{os.urandom(16).hex()}"
        self.env = self._env(web_ports[0])
        self.webs = [Gunicorn(self.folder / f"web{n}", port=port, env=self.env, name=f"web{n}")
                     for n, port in enumerate(web_ports, 1)]
        self.workers = []
        self.beats = []
        self.lock = threading.RLock()  # workers and beats are started from two threads

    def _env(self, web_port):
        kept = {key: value for key, value in os.environ.items()
                if not key.startswith(FOREIGN_PREFIXES)}
        return {
            **kept,
            "PYTHONPATH": str(ROOT),
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DJANGO_SECRET_KEY": self.secret_key,  # shared by web, workers and beat
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SECURE_COOKIES": "0",  # plain HTTP on loopback
            "DJANGO_BEHIND_PROXY": "1",  # each simulated customer has its own address
            "DJANGO_LOG_LEVEL": "INFO",
            "PORTAL_BASE_URL": f"http://127.0.0.1:{web_port}",
            "PORTAL_VAR_DIR": str(self.folder / "var"),
            "DATABASE_URL": self.postgres.url(),
            "DATABASE_CONN_MAX_AGE": "60",
            "CELERY_BROKER_URL": self.redis.url,
            "CACHE_URL": self.redis.url.rsplit("/", 1)[0] + "/1",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(self.sink.port),
            "EMAIL_TIMEOUT": "10",
            # Minutes become seconds: retries, the re-queue job's patience, the beat.
            "EMAIL_RETRY_BASE_DELAY": "2",
            # With retries 15 times sooner than in production, the minute of 451 answers
            # costs the attempts a quarter of an hour would (six), and a killed worker or
            # a database restart during a try cost one each: eight left a loaded run
            # short of attempts for an email those faults all hit (marked failed).
            "EMAIL_MAX_ATTEMPTS": "12",
            "EMAIL_STALE_AFTER": "15",
            "TASK_TIME_LIMIT": "30",
            "EMAIL_SENDING_TIMEOUT": "35",
            "BEAT_EVERY": "5",
        }

    def manage(self, *args, timeout=300):
        result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env,
                                capture_output=True, text=True, timeout=timeout,
                                stdin=subprocess.DEVNULL)
        assert result.returncode == 0, result.stderr[-3000:]

    def start(self):
        self.postgres.start()
        self.redis.start()
        self.sink.start()
        self.manage("migrate", "--no-input")
        self.manage("collectstatic", "--no-input", "-v0")
        for web in self.webs:
            web.start()
        for _ in range(2):
            self.worker_start()
        self.beat_start()

    def worker_start(self):
        with self.lock:
            return self._worker_start()

    def _worker_start(self):
        worker = CeleryWorker(self.folder / f"worker{len(self.workers) + 1}",
                              database=self.postgres.url(), broker_url=self.redis.url,
                              smtp_port=self.sink.port, name=f"worker{len(self.workers) + 1}")
        # Exactly the web's settings, and a liveness file for the supervisor's probe.
        worker.env = {**self.env, "WORKER_LIVENESS_FILE": str(worker.folder / "alive"),
                      "WORKER_LIVENESS_INTERVAL": str(LIVENESS_INTERVAL)}
        self.workers.append(worker)
        worker.start(concurrency=1)
        return worker

    def worker_restart(self, worker):
        """What a supervisor does when the liveness probe fails: stop the worker (SIGTERM,
        then SIGKILL after 5 s) and start another in its place."""
        with self.lock:
            worker.stop()
            return self._worker_start()

    def beat_start(self):
        with self.lock:
            return self._beat_start()

    def _beat_start(self):
        beat = Beat(self.folder / f"beat{len(self.beats) + 1}", env=self.env,
                    name=f"beat{len(self.beats) + 1}")
        self.beats.append(beat)
        beat.start()
        return beat

    def services(self):
        with self.lock:
            return [*self.webs, *self.beats, *self.workers, self.sink, self.redis]

    def close(self):
        for service in self.services():
            try:
                if service is self.redis and service.process is not None:
                    service.thaw()
                service.stop()
            except Exception as exc:  # noqa: BLE001 - go on with the others
                print(f"Stopping {service.name} failed: {exc!r}")
                try:
                    service.signal(signal.SIGKILL)
                except Exception:  # noqa: BLE001
                    pass
        self.postgres.stop()

    def logs(self, tail=3000):
        parts = [f"--- postgres log (end)\n{self.postgres.log()[-tail:]}"]
        for service in self.services():
            parts.append(f"--- {service.name} log (end)\n{service.log()[-tail:]}")
        return "\n".join(parts)

    def remove(self):
        shutil.rmtree(self.folder, ignore_errors=True)


def group_holding_port(local_port, groups):
    """Which of `groups` (process group ids) has the TCP socket whose local port is
    `local_port` open: how the test finds the worker a held SMTP client belongs to."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == local_port:
                inodes.add(f"socket:[{fields[9]}]")
    if not inodes:
        return None
    for pid_dir in Path("/proc").iterdir():
        if not pid_dir.name.isdigit():
            continue
        try:
            group = os.getpgid(int(pid_dir.name))
            if group not in groups:
                continue
            for fd in (pid_dir / "fd").iterdir():
                if os.readlink(fd) in inodes:
                    return group
        except OSError:
            continue
    return None
