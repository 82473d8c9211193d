"""Each checkout keeps its runtime files under its own var/ (PORTAL_VAR_DIR): two `make run`
on one machine share no gunicorn control socket, pid file or beat state."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")


def procfile():
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def test_the_web_process_reads_the_portal_gunicorn_config():
    assert procfile()["web"].startswith("gunicorn -c portal/gunicorn_config.py ")


def test_beat_keeps_its_pid_file_and_schedule_in_var(settings):
    assert "--pidfile ${PORTAL_VAR_DIR:-var}/celerybeat.pid" in procfile()["beat"]
    assert Path(settings.CELERY_BEAT_SCHEDULE_FILENAME).parent == settings.VAR_DIR


def start_gunicorn(var_dir, home):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "XDG_"))}
    env.update(PORTAL_VAR_DIR=str(var_dir), PORTAL_ENV_FILE="", HOME=str(home),
               DJANGO_SECRET_KEY="runtime-files-test-key", DJANGO_SETTINGS_MODULE="portal.settings")
    return subprocess.Popen(
        [str(GUNICORN), "-c", "portal/gunicorn_config.py", "portal.wsgi:application",
         "--bind", "127.0.0.1:0", "--workers", "1"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_for(path, timeout=60):
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.2)


def test_two_checkouts_keep_their_own_control_socket_and_pid_file(tmp_path):
    home = tmp_path / "home"  # where gunicorn's default socket would go (~/.gunicorn)
    home.mkdir()
    first, second = tmp_path / "a" / "var", tmp_path / "b" / "var"
    processes = [start_gunicorn(first, home), start_gunicorn(second, home)]
    try:
        for var_dir, process in zip((first, second), processes):
            wait_for(var_dir / "gunicorn.ctl")
            wait_for(var_dir / "gunicorn.pid")
            assert int((var_dir / "gunicorn.pid").read_text()) == process.pid
        assert not (home / ".gunicorn").exists()
        processes[0].send_signal(signal.SIGTERM)
        processes[0].wait(timeout=30)
        assert not (first / "gunicorn.ctl").exists()
        assert (second / "gunicorn.ctl").exists()  # stopping one leaves the other's alone
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=30)


def test_a_production_worker_runs_four_processes_unless_told_otherwise():
    """Two per core of a two-core machine: a delivery waits for the mail server and
    the database about half its time (benchmarks/bench_email_delivery.py)."""
    assert "--concurrency ${WORKER_CONCURRENCY:-4}" in procfile()["worker"]
