import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_settings(**env):
    """Import portal.settings in a fresh interpreter with exactly these variables."""
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("DJANGO_", "DATABASE_", "EMAIL_", "CELERY_", "NIC_", "PORTAL_"))}
    clean["PORTAL_ENV_FILE"] = ""  # a developer's .env is not what these tests are about
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import portal.settings as s; print(s.NIC_SUFFIX, s.DEBUG)"],
        cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60,
    )


def test_the_secret_key_has_no_default_outside_debug():
    result = load_settings(DJANGO_DEBUG="0")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_debug_runs_without_a_secret_key():
    result = load_settings(DJANGO_DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["-OVH", "True"]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DJANGO_DEBUG", "maybe"),
        ("EMAIL_PORT", "twenty-five"),
        ("EMAIL_PORT", "70000"),
        ("EMAIL_USE_TLS", "sometimes"),
        ("DATABASE_URL", "nosuchdb://x"),
        ("CELERY_BROKER_URL", "amqp-typo//host"),
        ("PORTAL_BASE_URL", "portal.example"),
        ("NIC_SUFFIX", "-ÖVH!"),
        ("SELLER_IBAN", "FR76 3000 6000 0112 3456 7890 188"),
        ("SELLER_BIC", "BNP"),
        ("SELLER_COUNTRY", "France"),
        ("INVOICE_PAYMENT_DAYS", "-1"),
        ("TASK_TIME_LIMIT", "3"),
        ("BEAT_EVERY", "-1"),
        ("EMAIL_STALE_AFTER", "soon"),
        ("EMAIL_MAX_ATTEMPTS", "0"),
        ("EMAIL_SENDING_TIMEOUT", "60"),  # not longer than the task's 90 s time limit
        ("DATABASE_PREPARE_THRESHOLD", "-1"),
    ],
)
def test_a_bad_value_fails_at_start_naming_the_variable(variable, value):
    env = {"DJANGO_SECRET_KEY": "x" * 50, variable: value}
    result = load_settings(**env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr


def test_beat_every_runs_each_timed_job_at_that_interval_for_the_fault_tests():
    code = ("import portal.settings as s; "
            "print(sorted({j['schedule'] for j in s.CELERY_BEAT_SCHEDULE.values()}))")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "BEAT_"))}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=60,
                            env={**clean, "DJANGO_DEBUG": "1", "BEAT_EVERY": "5"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[5.0]"


def test_the_attempts_before_an_email_fails_come_from_the_environment():
    code = ("import django; django.setup(); from notifications import delivery; "
            "print(delivery.MAX_ATTEMPTS)")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "EMAIL_"))}
    for env, expected in (({}, "8"), ({"EMAIL_MAX_ATTEMPTS": "12"}, "12")):
        result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                                text=True, timeout=60,
                                env={**clean, "DJANGO_DEBUG": "1",
                                     "DJANGO_SETTINGS_MODULE": "portal.settings", **env})
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip().splitlines()[-1] == expected


@pytest.mark.parametrize(("env", "expected"), [
    ({}, "True 5"), ({"DATABASE_PREPARE_THRESHOLD": "2"}, "True 2"),
    ({"DATABASE_PREPARE_THRESHOLD": "0"}, "True None"),
])
def test_postgresql_binds_parameters_on_the_server_and_prepares_repeated_queries(env, expected):
    code = ("import portal.settings as s; o = s.DATABASES['default']['OPTIONS']; "
            "print(o['server_side_binding'], o['prepare_threshold'])")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=60,
                            env={**clean, "DJANGO_DEBUG": "1", "PORTAL_ENV_FILE": "",
                                 "DATABASE_URL": "postgres://u:p@db.invalid/portal", **env})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == expected


def test_the_suffix_comes_from_the_environment():
    result = load_settings(DJANGO_DEBUG="1", NIC_SUFFIX="-EU")
    assert result.stdout.split()[0] == "-EU"


def test_argon2id_is_the_first_hasher():
    from portal import settings

    assert settings.PASSWORD_HASHERS[0] == "accounts.hashers.OwaspArgon2PasswordHasher"
    # Django's own Argon2 hasher has the same algorithm name: listed too, it would win.
    assert "django.contrib.auth.hashers.Argon2PasswordHasher" not in settings.PASSWORD_HASHERS
    from argon2 import Type

    from accounts.hashers import OwaspArgon2PasswordHasher

    params = OwaspArgon2PasswordHasher().params()
    assert (params.type, params.memory_cost, params.time_cost, params.parallelism) == (
        Type.ID, 19 * 1024, 2, 1)


def test_check_deploy_is_clean_in_production_settings():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    env.update({
        "DJANGO_SECRET_KEY": "k" * 30 + "Z9!q" * 10, "DJANGO_ALLOWED_HOSTS": "portal.example",
        "DJANGO_SECURE_SSL_REDIRECT": "1", "DJANGO_HSTS_SECONDS": "31536000",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
    })
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_code_only_commands_run_without_any_configuration(tmp_path):
    """`manage.py makemigrations --check` works on a bare checkout; a command that reads
    data still refuses to start without a secret key."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "DATABASE_", "PORTAL_"))}
    env["PORTAL_VAR_DIR"] = str(tmp_path)  # where the development SQLite file would go
    env["PORTAL_ENV_FILE"] = ""  # a bare checkout: no .env

    def manage(*args):
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)

    result = manage("makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout
    refused = manage("migrate", "--plan")
    assert refused.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in refused.stderr
