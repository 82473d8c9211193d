"""Billing pages under gunicorn, each against a bare Django view measured in the same run.

1. Prepare a PostgreSQL database (conftest.py: beside DATABASE_URL's, or in a private
   cluster), migrated, then benchmarks/seed.py
   creates a customer with 1,000 invoices, a stored PDF and a logged-in session.
2. Start two gunicorns (sync workers, persistent database connections as in production)
   on free loopback ports with benchmarks.settings, whose URLconf adds the bare view:
   one as configured, one with the invoice-list cache off (INVOICE_LIST_CACHE_SECONDS=0).
3. Load each URL for a fixed time with wrk (or, without wrk, a fixed number of requests
   from Python threads), in rounds, and compare requests per second: the invoice list
   (page 1 of 40) and the PDF download must each reach 40 % of the bare view. The list
   is what a customer gets on a page seen before since the last change to their
   invoices, which comes from the cache; the list with its cache off (a page's first
   view) is printed beside it.

The target is checked on wall-clock requests per second, as wrk sees them, taking the
median of the rounds' ratios (each compares runs seconds apart), since the rates swing
on a machine shared with other work. Requests per CPU-second of the gunicorn processes
(read from /proc around each run) are printed beside them: they hardly move with outside
load, but leave out the database server's work, which on PostgreSQL is a large part of
each request.

Every request carries the customer's session cookie, the bare view's too: the project's
middleware loads the session and the user for each of them, so the ratio measures what
the billing views add to any logged-in request. The bare view without a cookie, which
touches no database at all, is printed for reference.
"""

import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TARGET = 0.40
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
DURATION = int(os.environ.get("BENCH_SECONDS", "4"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "8"))
PY_REQUESTS = int(os.environ.get("BENCH_REQUESTS", "1500"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(args, env, **kwargs):
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True, timeout=600, **kwargs)


def start_gunicorn(env):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "portal.wsgi:application",
         "--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS), "--worker-class", "sync",
         "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        wait_until_up(port, process)
    except BaseException:
        stop(process)
        raise
    return port, process


def stop(process):
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="module")
def server(fresh_postgres_database):
    """Two gunicorns on the same database: the production settings, and the same with
    the invoice-list cache off (every page rendered anew), shown for reference."""
    workdir = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "benchmarks.settings",
        "DJANGO_SECRET_KEY": "benchmark-only-secret-key-not-for-production",
        "DJANGO_DEBUG": "0",
        "PORTAL_VAR_DIR": str(workdir),
        "PORTAL_MEDIA_ROOT": str(workdir / "media"),
        "CELERY_BROKER_URL": "memory://",
        # Persistent connections, as production runs (README); a new connection per
        # request would slow the bare view most and flatter every ratio.
        "DATABASE_CONN_MAX_AGE": os.environ.get("BENCH_CONN_MAX_AGE", "60"),
    }
    # Production runs on PostgreSQL: so does this benchmark (a private cluster when
    # DATABASE_URL is not PostgreSQL; see conftest.py).
    env["DATABASE_URL"] = fresh_postgres_database("billing")
    processes = []
    try:
        seeded = json.loads(run(["-m", "benchmarks.seed"], env).stdout.strip().splitlines()[-1])
        port, process = start_gunicorn(env)
        processes.append(process)
        uncached_port, uncached = start_gunicorn({**env, "INVOICE_LIST_CACHE_SECONDS": "0"})
        processes.append(uncached)
        yield {"port": port, "pid": process.pid, "uncached_port": uncached_port,
               "uncached_pid": uncached.pid, "database": "PostgreSQL",
               "conn_max_age": env["DATABASE_CONN_MAX_AGE"], **seeded}
    finally:
        for process in processes:
            stop(process)
        shutil.rmtree(workdir, ignore_errors=True)


def wait_until_up(port, process, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {process.stderr.read()}")
        try:
            status, _body = get(port, "/healthz/")
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer /healthz/ in time")


def get(port, path, cookie=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def gunicorn_cpu_seconds(master_pid):
    """User + system CPU time of the gunicorn master and its workers, or None without
    Linux's /proc."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0
    try:
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue  # the process ended meanwhile
            if int(entry) == master_pid or int(fields[1]) == master_pid:
                total += int(fields[11]) + int(fields[12])
    except OSError:
        return None
    return total / ticks


def rps_wrk(port, path, cookie):
    args = ["wrk", f"-t{min(2, CONNECTIONS)}", f"-c{CONNECTIONS}", f"-d{DURATION}s",
            f"http://127.0.0.1:{port}{path}"]
    if cookie:
        args[1:1] = ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(args, check=True, capture_output=True, text=True,
                         timeout=DURATION + 60).stdout
    assert "Non-2xx or 3xx responses" not in out, out
    assert "Socket errors" not in out, out
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), requests


def rps_python(port, path, cookie):
    """PY_REQUESTS requests from CONNECTIONS threads (gunicorn's sync workers close each
    connection, so every request opens a new one, as wrk's do)."""
    remaining = iter(range(PY_REQUESTS))
    lock = threading.Lock()
    failures = []

    def worker():
        while True:
            with lock:
                if next(remaining, None) is None:
                    return
            status, _body = get(port, path, cookie)
            if status != 200:
                failures.append(status)

    threads = [threading.Thread(target=worker) for _ in range(CONNECTIONS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    assert failures == []
    return PY_REQUESTS / elapsed, PY_REQUESTS


def test_invoice_list_and_pdf_download_against_a_bare_view(server):
    port, cookie = server["port"], server["session_cookie"]
    pid, uncached = server["pid"], (server["uncached_port"], server["uncached_pid"])
    pdf_path = f"/billing/invoices/{server['pdf_number']}/pdf/"
    list_name, pdf_name = "invoice list (1,000 invoices)", "stored PDF download"
    uncached_name = "invoice list, cache off"
    security_name = "account security page"
    targets = {  # name: (port, gunicorn master pid, path, cookie)
        "bare view": (port, pid, "/bench/bare/", cookie),
        list_name: (port, pid, "/billing/invoices/", cookie),
        pdf_name: (port, pid, pdf_path, cookie),
        uncached_name: (*uncached, "/billing/invoices/", cookie),
        security_name: (port, pid, "/account/security/", cookie),
        "bare view, anonymous": (port, pid, "/bench/bare/", None),
    }
    # The pages answer what a customer expects before anything is timed.
    for list_port in (port, uncached[0]):
        status, body = get(list_port, "/billing/invoices/", cookie)
        assert status == 200 and b"Page 1 of 40" in body, body[:300]
    status, body = get(port, pdf_path, cookie)
    assert status == 200 and body.startswith(b"%PDF-")
    assert get(port, "/bench/bare/")[0] == 200

    measure, tool = (rps_wrk, "wrk") if shutil.which("wrk") else (rps_python, "Python threads")
    for target_port, _pid, path, path_cookie in targets.values():
        for _ in range(20):  # warm up: templates, connections, translations, the cache
            get(target_port, path, path_cookie)
    # Rounds of back-to-back runs; each round's ratios compare runs seconds apart, and
    # the median round is kept.
    wall = {name: [] for name in targets}
    per_cpu = {name: [] for name in targets}
    for _round in range(ROUNDS):
        for name, (target_port, master, path, path_cookie) in targets.items():
            cpu_before = gunicorn_cpu_seconds(master)
            rate, requests = measure(target_port, path, path_cookie)
            cpu_after = gunicorn_cpu_seconds(master)
            wall[name].append(rate)
            if cpu_before is not None and cpu_after is not None and cpu_after > cpu_before:
                per_cpu[name].append(requests / (cpu_after - cpu_before))
    with_cpu = all(len(values) == ROUNDS for values in per_cpu.values())

    def ratio(rates, name):
        return statistics.median(page / bare for page, bare in zip(rates[name],
                                                                     rates["bare view"]))

    checked = (list_name, pdf_name)
    print(f"\nBilling benchmark: gunicorn, {WORKERS} sync workers, {server['database']} "
          f"(DATABASE_CONN_MAX_AGE={server['conn_max_age']}), {tool}, {CONNECTIONS} "
          f"connections, median of {ROUNDS} rounds"
          + (f" of {DURATION} s runs" if tool == "wrk" else f" of {PY_REQUESTS} requests"))
    print(f"  {'':32} {'wall clock':>22} {'per gunicorn CPU-second':>30}")
    for name in ("bare view", *checked, uncached_name, security_name, "bare view, anonymous"):
        label = "bare view (logged in)" if name == "bare view" else name
        line = f"  {label:32} {statistics.median(wall[name]):8.1f} req/s"
        line += f"  ratio {ratio(wall, name):.2f}" if name != "bare view" else " " * 13
        if with_cpu:
            line += f"  {statistics.median(per_cpu[name]):10.1f} req/CPU-s"
            line += f"  ratio {ratio(per_cpu, name):.2f}" if name != "bare view" else ""
        print(line)
    print(f"  target: wall-clock ratio >= {TARGET:.2f} against the logged-in bare view, for "
          "the list as served (a page seen before comes from the cache) and the PDF; the "
          "list with its cache off, as on a page's first view, and the anonymous bare "
          "view, which touches no database, are shown for reference; so is the security page "
          "(issue 18: target 0.40, not met yet)")
    print("  wall-clock rounds: " + "; ".join(
        ", ".join(f"{wall[name][n]:.0f}" for name in targets) for n in range(ROUNDS)))
    for name in checked:
        assert ratio(wall, name) >= TARGET, (
            f"{name}: {ratio(wall, name):.2f} of the bare view's requests per second")
