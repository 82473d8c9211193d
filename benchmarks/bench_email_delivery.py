"""Email delivery through the outbox and a real Celery worker, against plain smtplib
sending the same messages to the same SMTP sink over one connection, in the same run.

1. A private Redis broker and SMTP sink (notifications/tests/live.py), and a Celery
   worker with the production settings: as many processes as the Procfile's default
   WORKER_CONCURRENCY, persistent database connections (DATABASE_CONN_MAX_AGE=60).
2. In each round, alternating which goes first, each side once the worker is idle (no
   task message waiting or unacknowledged):
   - baseline: one smtplib connection sends N messages, one after the other, built the
     way the worker builds them (notifications.delivery);
   - outbox: N rows are written (rendered, as email_queue does) and one delivery task
     per row is published while the worker's consumer is cancelled; the clock runs from
     adding the consumer back until every row is marked sent (the rate with the
     publishing counted in is printed for reference: in production each web request
     publishes its own message).
3. Messages per second of each; the median of the rounds' ratios outbox/baseline must
   reach 0.50. Each task claims a batch of due rows (EMAIL_DELIVERY_BATCH) and sends
   them over one connection; the other rows' tasks then find nothing to claim. New
   PostgreSQL sessions per email are printed beside (pg_stat_database).

Run with `make bench`, with DATABASE_URL pointing at PostgreSQL for the production case
(on SQLite the worker shares a file database)."""

import logging
import os
import re
import shutil
import smtplib
import statistics
import time
from pathlib import Path
from unittest import mock

import pytest
from django.db import connection, transaction

from benchmarks.table import record
from conftest import make_customer
from notifications import delivery
from notifications.models import OutboundEmail
from notifications.services import email_queue
from notifications.tests.live import (
    CeleryWorker,
    RedisServer,
    SmtpSink,
    database_url,
    publishing_to,
    wait_until,
)
from portal.queueing import task_send

MESSAGES = int(os.environ.get("BENCH_EMAILS", "1000"))  # per round and per side
ROUNDS = int(os.environ.get("BENCH_EMAIL_ROUNDS", "7"))  # short rounds: more of them
TARGET = 0.50


def procfile_worker_concurrency():
    """The worker processes production runs by default: the Procfile's
    ${WORKER_CONCURRENCY:-N}, unless BENCH_WORKER_CONCURRENCY says otherwise."""
    if os.environ.get("BENCH_WORKER_CONCURRENCY"):
        return int(os.environ["BENCH_WORKER_CONCURRENCY"])
    procfile = (Path(__file__).resolve().parent.parent / "Procfile").read_text()
    return int(re.search(r"--concurrency \$\{WORKER_CONCURRENCY:-(\d+)\}", procfile).group(1))


CONCURRENCY = procfile_worker_concurrency()


def queue_rows(customer, count):
    """`count` rendered outbox rows, no task published yet."""
    with mock.patch("notifications.services.task_send_on_commit"), transaction.atomic():
        return [email_queue(template="password_changed", to=customer.email, user=customer,
                            context={"ip": "198.51.100.7", "how": "change"}).pk
                for _ in range(count)]


def database_sessions():
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def worker_idle(broker_url):
    """Wait until the worker has taken and acknowledged every task message (the default
    queue is empty and nothing is unacknowledged), and return how long that took: the
    tasks whose row an earlier batch had sent still run after the last email is out,
    and neither side should start while they do."""
    import redis

    client, started = redis.Redis.from_url(broker_url), time.perf_counter()
    wait_until(lambda: client.llen("celery") == 0 and client.hlen("unacked") == 0,
               timeout=300, interval=0.02, what="the worker to go idle")
    return time.perf_counter() - started


def through_the_outbox(app, customer, count):
    """(messages per second from the first task to the last row sent, the same with the
    publishing of the task messages counted in, new database sessions). The messages are
    published while the worker does not consume (its consumer cancelled, then added back
    when the clock starts): in production each web request publishes its own at commit,
    and here one process publishing 1,000 of them takes about 0.7 s of CPU on the cores
    the worker needs. The second rate keeps that cost in, for comparison."""
    ids = queue_rows(customer, count)
    sessions_before = database_sessions()
    assert app.control.cancel_consumer("celery", reply=True), "the worker did not answer"
    publishing = time.perf_counter()
    for pk in ids:
        assert task_send(delivery.DELIVER_TASK, pk)
    publishing = time.perf_counter() - publishing
    started = time.perf_counter()
    assert app.control.add_consumer("celery", reply=True), "the worker did not answer"
    # Polled every 50 ms: a range of ids rather than a list of 1,000 of them.
    sent = OutboundEmail.objects.filter(pk__gte=min(ids), pk__lte=max(ids),
                                        status=OutboundEmail.Status.SENT)
    wait_until(lambda: sent.count() == count, timeout=600, interval=0.05,
               what=f"{count} emails sent")
    elapsed = time.perf_counter() - started
    sessions_after = database_sessions()
    sessions = None if sessions_before is None else sessions_after - sessions_before
    return count / elapsed, count / (elapsed + publishing), sessions


def through_smtplib(customer, port, count):
    """The same message, as bytes, over one plain SMTP connection."""
    pk = queue_rows(customer, 1)[0]
    email = OutboundEmail.objects.get(pk=pk)
    message = delivery._message(email).message()
    sender, data = message["From"], message.as_bytes(linesep="\r\n")  # as Django sends it
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        for _ in range(count):
            smtp.sendmail(sender, [customer.email], data)
    return count / (time.perf_counter() - started)


@pytest.mark.django_db(transaction=True)
def test_outbox_delivery_through_a_worker_against_plain_smtplib(tmp_path):
    if not shutil.which("redis-server"):
        pytest.fail("redis-server is needed (Debian package redis-server)")
    logging.getLogger("notifications").setLevel(logging.WARNING)
    customer = make_customer("bench-delivery@example.org")
    redis, sink = RedisServer(tmp_path / "redis"), SmtpSink(tmp_path / "sink")
    worker = CeleryWorker(tmp_path / "worker", database=database_url(connection.settings_dict),
                          broker_url=redis.url, smtp_port=sink.port,
                          DATABASE_CONN_MAX_AGE="60")
    outbox, plain, ratios, sessions, task_seconds, drained = [], [], [], [], [], []
    published_in = []  # outbox rates with the publishing of the task messages counted
    try:
        redis.start()
        sink.start()
        worker.start(concurrency=CONCURRENCY)
        with publishing_to(redis.url) as app:
            through_the_outbox(app, customer, 50)  # warm up the worker processes
            for number in range(ROUNDS):
                sides = ["outbox", "plain"] if number % 2 == 0 else ["plain", "outbox"]
                for side in sides:
                    drained.append(worker_idle(redis.url))
                    if side == "outbox":
                        rate, with_publishing, new_sessions = through_the_outbox(
                            app, customer, MESSAGES)
                        outbox.append(rate)
                        published_in.append(with_publishing)
                        sessions.append(new_sessions)
                    else:
                        plain.append(through_smtplib(customer, sink.port, MESSAGES))
                ratios.append(outbox[-1] / plain[-1])
    finally:
        task_seconds = [float(s) for s in re.findall(
            r"deliver_email_task\[[0-9a-f-]+\] succeeded in ([\d.]+)s", worker.log())]
        for service in (worker, sink, redis):
            service.stop()
    print(f"\nEmail delivery, {MESSAGES} messages per side and round, {ROUNDS} rounds, "
          f"database: {connection.vendor}")
    print(f"  plain smtplib, one connection      : {statistics.median(plain):8.1f} msg/s")
    print(f"  outbox + Celery worker (x{CONCURRENCY} processes): "
          f"{statistics.median(outbox):8.1f} msg/s")
    print(f"  the same, publishing counted in     : {statistics.median(published_in):8.1f} msg/s "
          f"(ratio {statistics.median(p / b for p, b in zip(published_in, plain)):.2f}, "
          f"for reference)")
    if task_seconds:
        print(f"  one delivery task, as the worker logs it: median "
              f"{statistics.median(task_seconds) * 1000:.1f} ms")
    print(f"  waits for an idle worker before each side: "
          f"{', '.join(f'{d:.2f}' for d in drained)} s")
    if sessions[0] is not None:
        print(f"  new database sessions per round    : {sessions} for {MESSAGES} emails each")
    print(f"  ratio outbox/plain (median of rounds): {statistics.median(ratios):.2f} "
          f"(rounds: {', '.join(f'{r:.2f}' for r in ratios)}); target >= {TARGET:.2f}")
    ratio = statistics.median(ratios)
    record(f"email delivery, outbox + worker ({connection.vendor})",
           f"plain smtplib {statistics.median(plain):.0f} msg/s",
           f"{statistics.median(outbox):.0f} msg/s", f"{ratio:.2f}", f">= {TARGET:.2f}",
           ratio >= TARGET)
    assert ratio >= TARGET
