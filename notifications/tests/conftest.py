import shutil

import pytest
from django.db import connection

from conftest import require
from notifications.tests.live import (
    CeleryWorker, RedisServer, SmtpSink, database_url, publishing_to, wait_until,
)


class LiveServices:
    """A private Redis and SMTP sink, and the Celery workers a test starts against them
    and the test database."""

    def __init__(self, folder):
        self.folder = folder
        self.redis = RedisServer(folder / "redis")
        self.sink = SmtpSink(folder / "sink")
        self.workers = []

    def worker(self, name="worker", **env):
        env = {"EMAIL_RETRY_BASE_DELAY": "1", "EMAIL_TIMEOUT": "60", **env}
        worker = CeleryWorker(self.folder / name, database=database_url(connection.settings_dict),
                              broker_url=self.redis.url, smtp_port=self.sink.port, name=name,
                              **env)
        self.workers.append(worker)
        return worker

    def wait_settled(self, timeout=60):
        """Until nothing is in flight: the broker holds no task message and every worker
        has ended each task it received. Only then can a test say that no second copy
        of an email is on its way."""
        wait_until(lambda: self.redis.pending() == 0 and all(w.idle() for w in self.workers),
                   timeout=timeout, what="the broker and the workers to have nothing left")

    def close(self):
        for service in [*self.workers, self.sink]:
            service.stop()
        if self.redis.process is not None:
            self.redis.thaw()
            self.redis.stop()

    def print_logs(self):
        for service in [self.redis, self.sink, *self.workers]:
            print(f"--- {service.name} log (end)\n{service.log()[-4000:]}")


@pytest.fixture
def live(postgres, tmp_path):
    """Real services of this test's own. PostgreSQL only: a worker process shares the
    test database, which SQLite's in-memory test database cannot do."""
    require(shutil.which("redis-server"), "redis-server (Debian package redis-server)")
    services = LiveServices(tmp_path)
    try:
        services.redis.start()
        services.sink.start()
        with publishing_to(services.redis.url):
            yield services
    finally:
        services.close()
        services.print_logs()  # shown by pytest only when the test failed
