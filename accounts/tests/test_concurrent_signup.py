import itertools
import re
import threading

import pytest
from django.test import Client

from accounts import nic
from accounts.models import IssuedNicHandle, User
from conftest import run_at_once, signup_data

SIGNUPS = 24


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_parallel_signups_never_collide_and_never_fail(postgres, monkeypatch):
    """24 browsers submit the signup form at the same moment on PostgreSQL. The digit
    draws are rigged so that every value is handed out three times: handles collide for
    real inside concurrent transactions, and every signup must still succeed."""
    lock = threading.Lock()
    values = itertools.chain.from_iterable(itertools.repeat(n, 3) for n in itertools.count())
    draws = []

    def rigged_digits():
        with lock:
            value = next(values)
            draws.append(value)
        return f"{value:06d}"

    monkeypatch.setattr(nic, "random_digits", rigged_digits)

    def sign_up(n):
        # Each browser from its own address: signups are limited per IP.
        return Client(REMOTE_ADDR=f"198.51.100.{n + 1}").post("/signup/", signup_data(
            first_name="Ana", last_name="Díaz", email=f"ana{n}@example.org", spare_email="",
        )).status_code

    statuses, errors = run_at_once(sign_up, SIGNUPS)
    assert errors == []
    assert statuses == [302] * SIGNUPS
    handles = list(User.objects.values_list("nic_handle", flat=True))
    assert len(handles) == len(set(h.lower() for h in handles)) == SIGNUPS
    assert all(re.fullmatch(r"ad\d{6}-OVH", h) for h in handles)
    assert IssuedNicHandle.objects.count() == SIGNUPS
    assert len(draws) > SIGNUPS, "the rigged draws should have produced collisions"
