"""The development configuration `make run` writes (`.env`) is what every `manage.py`
command reads, in a checkout of its own; production without it still refuses to start
without a key, and the test suite never reads it."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG_PREFIXES = ("DJANGO_", "DATABASE_", "PORTAL_", "CELERY_", "EMAIL_", "CACHE_", "AWS_")


@pytest.fixture
def checkout(tmp_path):
    """A checkout-like folder: its own copy of `portal/` (so that the settings' BASE_DIR,
    and with it `.env` and `var/`, are here) and links to the rest of the code."""
    folder = tmp_path / "checkout"
    folder.mkdir()
    shutil.copytree(ROOT / "portal", folder / "portal",
                    ignore=shutil.ignore_patterns("__pycache__", "tests"))
    shutil.copy(ROOT / "manage.py", folder / "manage.py")
    for name in ("accounts", "billing", "support", "notifications", "templates", "static",
                 "locale", "tools"):
        (folder / name).symlink_to(ROOT / name)
    return folder


def run(folder, *args, **env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(CONFIG_PREFIXES)}
    clean.update(env)
    return subprocess.run([sys.executable, *args], cwd=folder, env=clean,
                          capture_output=True, text=True, timeout=300)


def write_env(folder):
    result = run(folder, "tools/dev_env.py", str(folder / ".env"))
    assert result.returncode == 0, result.stderr
    return dict(line.split("=", 1) for line in (folder / ".env").read_text().splitlines()
                if line and not line.startswith("#"))


SHOW = "import portal.settings as s; print(s.DEBUG, s.SECRET_KEY, s.DATABASES['default']['NAME'])"


def test_without_env_file_a_readme_command_refuses_to_start_without_a_key(checkout):
    result = run(checkout, "manage.py", "apply_due_email_changes")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_the_readme_commands_work_in_the_checkout_once_its_env_file_is_written(checkout):
    (checkout / "var").mkdir()
    write_env(checkout)
    migrate = run(checkout, "manage.py", "migrate", "--no-input", "-v", "0")
    assert migrate.returncode == 0, migrate.stderr
    assert (checkout / "var" / "portal.sqlite3").exists()  # this checkout's var/, not another's
    for command in ("apply_due_email_changes", "expire_contact_changes",
                    "close_waiting_support_requests"):
        result = run(checkout, "manage.py", command)
        assert result.returncode == 0, f"{command}: {result.stderr}"


def test_the_env_file_holds_debug_and_a_generated_key_and_is_written_once(checkout, tmp_path):
    values = write_env(checkout)
    assert values["DJANGO_DEBUG"] == "1"
    assert len(values["DJANGO_SECRET_KEY"]) >= 50
    assert write_env(checkout) == values  # a second `make run` keeps the key
    other = tmp_path / "other.env"
    assert run(checkout, "tools/dev_env.py", str(other)).returncode == 0
    assert other.read_text() != (checkout / ".env").read_text()  # a key per checkout
    assert (checkout / ".env").stat().st_mode & 0o077 == 0  # readable by its owner only


def test_the_settings_read_the_env_file(checkout):
    values = write_env(checkout)
    debug, key, database = run(checkout, "-c", SHOW).stdout.split()
    assert (debug, key) == ("True", values["DJANGO_SECRET_KEY"])
    assert Path(database) == checkout / "var" / "portal.sqlite3"


def test_a_real_environment_variable_wins_over_the_env_file(checkout):
    write_env(checkout)
    result = run(checkout, "-c", SHOW, DJANGO_DEBUG="0", DJANGO_SECRET_KEY="from-the-env-" * 5)
    assert result.returncode == 0, result.stderr
    debug, key, _database = result.stdout.split()
    assert (debug, key) == ("False", "from-the-env-" * 5)


def test_production_refuses_to_start_without_a_key_even_with_debug_off_in_the_file(checkout):
    (checkout / ".env").write_text("DJANGO_DEBUG=0\n")
    result = run(checkout, "manage.py", "check")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_portal_env_file_names_another_file_or_none(checkout, tmp_path):
    write_env(checkout)
    ignored = run(checkout, "manage.py", "check", PORTAL_ENV_FILE="")
    assert "DJANGO_SECRET_KEY must be set" in ignored.stderr
    elsewhere = tmp_path / "portal.env"
    elsewhere.write_text("DJANGO_SECRET_KEY=from-elsewhere-0123456789\n")
    result = run(checkout, "-c", SHOW, PORTAL_ENV_FILE=str(elsewhere))
    assert result.stdout.split()[:2] == ["False", "from-elsewhere-0123456789"]
    missing = run(checkout, "-c", SHOW, PORTAL_ENV_FILE=str(tmp_path / "nope.env"))
    assert missing.returncode != 0
    assert "PORTAL_ENV_FILE" in missing.stderr


def test_the_test_settings_ignore_a_developers_env_file(checkout):
    (checkout / ".env").write_text(
        "DJANGO_DEBUG=1\nDJANGO_SECRET_KEY=developer-key\n"
        "DATABASE_URL=postgres://someone:secret@db.invalid/theirs\n")
    result = run(checkout, "-c", (
        "import portal.test_settings as s; "
        "print(s.DEBUG, s.SECRET_KEY, s.DATABASES['default']['ENGINE'])"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "False", "test-only-secret-key-not-for-production", "django.db.backends.sqlite3"]
