"""Shared benchmark fixtures: a PostgreSQL server to measure on, and a file-backed
SQLite test database that worker processes can open.

With DATABASE_URL pointing at PostgreSQL, benchmarks create their databases there.
Otherwise a private, throw-away cluster is started from Debian's PostgreSQL binaries."""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pg_bin():
    roots = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    if not roots:
        pytest.fail("PostgreSQL is needed for this benchmark: apt-get install postgresql, "
                    "or set DATABASE_URL=postgres://...")
    return roots[-1]


def _as_postgres(args):
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run(prefix + [str(a) for a in args], check=True, capture_output=True)


@pytest.fixture(scope="session")
def postgres_server_url():
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        yield url
        return
    pg_bin = _pg_bin()
    folder = Path(tempfile.mkdtemp(prefix="portal-bench-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    data, port = folder / "data", _free_port()
    _as_postgres([pg_bin / "initdb", "-D", data, "-A", "trust", "-U", "postgres"])
    _as_postgres([pg_bin / "pg_ctl", "-D", data, "-l", folder / "log", "-w", "start", "-o",
                  f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off"])
    try:
        yield f"postgres://postgres@127.0.0.1:{port}/postgres"
    finally:
        _as_postgres([pg_bin / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop"])
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def fresh_postgres_database(postgres_server_url):
    """A function that makes an empty, migrated database and returns its URL."""
    created = []
    server = urlparse(postgres_server_url)

    def admin():
        conn = psycopg.connect(urlunparse(server._replace(path="/postgres")))
        conn.autocommit = True
        return conn

    def make(name):
        name = f"bench_{name}_{os.getpid()}"
        conn = admin()
        with conn.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
            cursor.execute(f'CREATE DATABASE "{name}"')
        conn.close()
        created.append(name)
        url = urlunparse(server._replace(path=f"/{name}"))
        env = {**os.environ, "DATABASE_URL": url, "DJANGO_DEBUG": "1",
               "DJANGO_SETTINGS_MODULE": "portal.settings"}
        subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT,
                       env=env, check=True, timeout=600)
        return url

    yield make
    for name in created:
        conn = admin()
        with conn.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """On SQLite, a test database in a file rather than in memory, so that a Celery
    worker in another process can open it too."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        folder = tmp_path_factory.mktemp("bench-db")
        database.setdefault("TEST", {})["NAME"] = str(folder / "portal-bench.sqlite3")


def pytest_terminal_summary(terminalreporter):
    """The one table of the run (benchmarks/table.py), after everything else."""
    from benchmarks.table import ROWS, render

    if ROWS:
        terminalreporter.write_sep("=", "make bench: every measure against its baseline, same run")
        terminalreporter.write_line(render())
        missed = [row.measure for row in ROWS if row.ok is False]
        terminalreporter.write_line(f"targets missed: {', '.join(missed)}" if missed
                                    else "every target met")
