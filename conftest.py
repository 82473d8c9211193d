"""Shared people and the real-service fixtures.

Service and browser tests skip on a laptop without the services, and fail instead when
CI=true: CI must never pass by skipping them."""

import email
import email.policy
import os
import shutil
import socket
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import translation
from django.db import connection
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from accounts.services import account_create

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PASSWORD = "correct-horse-battery-42"

# Property tests (portal/tests/hostile.py): few examples per form in `make test`, more with
# HYPOTHESIS_MAX_EXAMPLES=500. No deadline: one example is a whole request. Each example
# opens its own client and rolls its rows back, so function-scoped fixtures are safe.
hypothesis_settings.register_profile(
    "portal",
    max_examples=int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", "20")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large],
    print_blob=True,
)
hypothesis_settings.load_profile("portal")


def require(condition, reason):
    """Skip where a service is simply absent; fail under CI, where it must be there."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"Required under CI=true: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test starts with empty rate limits (they live in the cache)."""
    cache.clear()


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in the default language: a request in a customer's language
    leaves it active in the thread afterwards (Django's middleware does not reset it),
    and a later test would otherwise read Spanish messages."""
    translation.deactivate()
    yield
    translation.deactivate()


def make_customer(email_address, first_name="Daniel", last_name="Martín", **extra):
    return account_create(email=email_address, password=PASSWORD, first_name=first_name,
                          last_name=last_name, send_confirmation=False, **extra)


@pytest.fixture
def customer(db):
    return make_customer("daniel@example.org", address="1 Calle Mayor", city="Madrid",
                         zip="28013", country="ES", phone="+34912345678")


@pytest.fixture
def other_customer(db):
    return make_customer("other@example.net", first_name="Olivia", last_name="Other")


@pytest.fixture
def customer_client(client, customer):
    client.force_login(customer)
    prove_password(client)
    client.get("/account/")  # the first request of a session records it (UserSession)
    return client


def totp_code(device, *, offset=0):
    """The code an authenticator app shows now (or `offset` time steps later)."""
    from django_otp.oath import totp

    return str(totp(device.bin_key, device.step, device.t0, device.digits,
                    drift=offset)).zfill(device.digits)


def give_second_factor(user):
    """A confirmed authenticator app, as after an enrolment (no email, no log line)."""
    from accounts.models import AuthenticatorApp

    from accounts.security import security_page_changed

    device = AuthenticatorApp.new(user=user, name="Authenticator app", confirmed=True)
    device.save()
    security_page_changed(user_id=user.pk)
    return device


def prove_password(client):
    """Mark the client's session as one whose password was just proven, as a login does
    (accounts.proof): pages that want a recent proof open at once."""
    import time as _time

    from accounts import proof

    session = client.session
    session[proof.PROOF_KEY] = _time.time()
    session.save()


def prove_second_factor(client):
    """Mark the client's session as one whose password and second factor were just
    proven, as the login's second step does (accounts.proof)."""
    import time as _time

    from accounts import proof

    session = client.session
    session[proof.PROOF_KEY] = session[proof.SECOND_FACTOR_KEY] = _time.time()
    session.save()


def staff_log_in(client, user):
    """Log a member of staff in as admin wants them: with a second factor, proven in
    this session (portal.admin)."""
    from accounts.models import AuthenticatorApp

    if not AuthenticatorApp.objects.filter(user=user, confirmed=True).exists():
        give_second_factor(user)
    client.force_login(user)
    prove_second_factor(client)
    client.get("/account/")  # the first request of a session records it (UserSession)
    return client


def signup_data(**overrides):
    data = {
        "first_name": "Daniel", "last_name": "Martín", "email": "daniel.martin@example.org",
        "spare_email": "dm.spare@example.net", "password1": PASSWORD, "password2": PASSWORD,
        "legal_form": "individual", "organisation": "", "address": "12 Calle Mayor",
        "city": "Madrid", "zip": "28013", "country": "ES", "phone": "+34 912 345 678",
        "language": "en",
    }
    data.update(overrides)
    return data


# --- real services ---------------------------------------------------------------------

def _port_open(host, port):
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def postgres(db):
    require(connection.vendor == "postgresql",
            "PostgreSQL (set DATABASE_URL=postgres://...); this test runs on SQLite")


@pytest.fixture
def smtp_sink():
    """The SMTP sink that .ci/run starts (tools/smtp_sink.py), read from its folder."""
    folder = os.environ.get("SMTP_SINK_DIR")
    reachable = bool(settings.EMAIL_HOST) and _port_open(settings.EMAIL_HOST, settings.EMAIL_PORT)
    require(folder and reachable,
            "an SMTP sink (EMAIL_HOST/EMAIL_PORT and SMTP_SINK_DIR, see tools/smtp_sink.py)")
    return Sink(Path(folder))


class Sink:
    def __init__(self, folder):
        self.folder = folder

    def messages(self, to=None):
        found = []
        for path in sorted(self.folder.glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if to is None or to.lower() in message.get("X-Sink-Rcpt-To", "").lower():
                found.append(message)
        return found

    def wait_for(self, to, count=1, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.messages(to)
            if len(found) >= count:
                return found
            time.sleep(0.2)
        return self.messages(to)


@pytest.fixture
def celery_worker_live(transactional_db):
    """A real Celery worker behind a real broker: tasks leave this process."""
    from portal.celery import app

    broker = urlparse(settings.CELERY_BROKER_URL)
    require(broker.scheme in {"redis", "rediss"} and _port_open(broker.hostname, broker.port or 6379),
            "Redis as the Celery broker (CELERY_BROKER_URL=redis://...)")
    replies = app.control.ping(timeout=3)
    require(bool(replies), "a running Celery worker (celery -A portal worker)")
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield app
    app.conf.task_always_eager = eager


# Debian's Chromium, headless, as root, on a machine whose network is closed: without the
# background-networking flags it keeps trying to reach Google's hosts.
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture
def chromium_path():
    path = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    require(shutil.which(path) is not None, f"Debian's Chromium at {path}")
    return path


@pytest.fixture
def support_agent(db):
    """A staff member in the "Support" group that the migration creates."""
    from django.contrib.auth.models import Group

    agent = make_customer("agent@portal.example", first_name="Alex", last_name="Agent")
    agent.is_staff = True
    agent.save()
    agent.groups.add(Group.objects.get(name="Support"))
    return agent


@pytest.fixture
def agent_client(support_agent):
    from django.test import Client

    return staff_log_in(Client(), support_agent)


@pytest.fixture
def superuser(db):
    """A staff member with every right, as `createsuperuser` makes one."""
    from accounts.models import User

    return User.objects.create_superuser(email="root@portal.example", password=PASSWORD,
                                         first_name="Rosa", last_name="Root")


@pytest.fixture
def superuser_client(superuser):
    from django.test import Client

    return staff_log_in(Client(), superuser)


def run_at_once(work, count, *, timeout=120):
    """Call work(0) ... work(count - 1) in `count` threads released together, each with
    its own database connection (closed at the end). Returns (results by index, errors)."""
    import threading

    barrier = threading.Barrier(count)
    results, errors = [None] * count, []

    def run(n):
        try:
            barrier.wait(timeout=30)
            results[n] = work(n)
        except Exception as exc:  # noqa: BLE001 - handed to the caller
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return results, errors
