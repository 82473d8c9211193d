"""Benchmark: "Forgotten password?" answers in about the same time whether or not the
account exists (no enumeration by timing). Medians over alternating requests, same run.
Target: the ratio of the medians stays within 0.8 to 1.25."""

import statistics
import time

import pytest
from django.core.cache import cache
from django.test import Client

from conftest import make_customer

ROUNDS = 60


@pytest.mark.django_db(transaction=True)
def test_reset_request_time_does_not_tell_whether_the_account_exists(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "memory://"
    user = make_customer("timing@example.org")
    client = Client()
    timings = {"existing": [], "unknown": []}
    for n in range(ROUNDS + 5):
        for kind, login in (("existing", user.nic_handle), ("unknown", f"zz{n:06d}-OVH")):
            cache.clear()
            start = time.perf_counter()
            response = client.post("/password-reset/", {"login": login})
            elapsed = time.perf_counter() - start
            assert response.status_code == 302
            if n >= 5:  # warm-up
                timings[kind].append(elapsed)
    existing = statistics.median(timings["existing"]) * 1000
    unknown = statistics.median(timings["unknown"]) * 1000
    ratio = existing / unknown
    print(f"\npassword reset request, median of {ROUNDS}: existing account {existing:.2f} ms, "
          f"unknown account {unknown:.2f} ms, ratio {ratio:.2f}")
    assert 0.8 <= ratio <= 1.25
