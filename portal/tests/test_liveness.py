"""The worker liveness file and its probe (portal.celery.LivenessFile, portal.liveness)."""

import os
import time
from types import SimpleNamespace

from celery.worker import state

from portal.celery import worker_can_take_work
from portal.liveness import main


class Request:
    """Stands for a received task (Celery's state keeps weak references to them)."""

    id = "task-1"


def consumer(can_consume):
    qos = SimpleNamespace(can_consume=lambda: can_consume)
    return SimpleNamespace(task_consumer=SimpleNamespace(channel=SimpleNamespace(qos=qos)))


def test_probe_passes_on_a_fresh_file_and_fails_on_an_old_or_missing_one(tmp_path, capsys):
    path = tmp_path / "worker.alive"
    assert main([str(path)]) == 1
    assert "missing" in capsys.readouterr().err
    path.write_text("1\n")
    assert main([str(path), "--max-age", "30"]) == 0
    old = time.time() - 45
    os.utime(path, (old, old))
    assert main([str(path), "--max-age", "30"]) == 1
    assert "not touched for 45 s" in capsys.readouterr().err


def test_a_worker_whose_prefetch_window_stays_full_with_no_task_is_not_alive():
    """What a failed acknowledgement leaves behind: no task held, and the channel
    still counts one unacknowledged message, so it never asks for another."""
    assert not worker_can_take_work(consumer(can_consume=False))
    assert worker_can_take_work(consumer(can_consume=True))


def test_a_worker_busy_with_a_task_is_alive_even_with_a_full_window():
    request = Request()
    state.reserved_requests.add(request)
    try:
        assert worker_can_take_work(consumer(can_consume=False))
    finally:
        state.reserved_requests.discard(request)
