"""Logins per CPU core: Argon2id at Django's default parameters (m=100 MiB, t=2, p=8)
against the portal's (m=19 MiB, t=2, p=1, accounts/hashers.py), in the same run.

A login's cost is the password check: one verify of the stored hash with that hash's own
parameters. Both kinds are verified alternately, one by one, in this process; the CPU
time of the process (all of argon2's lanes count, so p=8 gets no credit for using
several cores) gives checks per CPU-second, i.e. logins per second per core.

Robust to a shared machine: BENCH_HASH_ROUNDS rounds (default 60) after two warm-up
rounds, the order reversed every other round, and the ratio checked is the median of
the per-round ratios (each round's default check against the portal's check of the same
round, so a busy moment slows both sides of one ratio); the ratio of the medians is
printed beside it.

Target: 8 times Django's default, measured in the same run. Issue 18 asked for 50 logins
per second per core on a machine where Django's default took 160 ms (6.25 per second):
50 / 6.25 = 8. On a slower or busier machine the absolute figure falls with the
baseline, so the ratio is what is checked; the absolute figure is printed beside it."""

import os
import statistics
import time

from django.contrib.auth.hashers import Argon2PasswordHasher

from accounts.hashers import OwaspArgon2PasswordHasher
from benchmarks.table import record

ROUNDS = int(os.environ.get("BENCH_HASH_ROUNDS", "60"))
TARGET_RATIO = 8.0  # issue 18: 50 logins/s per core where the default made 6.25
ISSUE_LOGINS_PER_CORE = 50.0
PASSWORD = "correct-horse-battery-42"


class OwaspSmallestMemory(Argon2PasswordHasher):
    """OWASP's last equal-strength set, shown for reference: less memory, more passes."""

    time_cost, memory_cost, parallelism = 5, 7 * 1024, 1


def one_check(hasher, encoded):
    cpu, wall = time.process_time(), time.perf_counter()
    assert hasher.verify(PASSWORD, encoded)
    return time.process_time() - cpu, time.perf_counter() - wall


def test_logins_per_core_with_the_owasp_parameters_against_djangos_default():
    kinds = {"Django default m=100 MiB t=2 p=8": Argon2PasswordHasher(),
             "portal m=19 MiB t=2 p=1": OwaspArgon2PasswordHasher(),
             "reference: OWASP m=7 MiB t=5 p=1": OwaspSmallestMemory()}
    stored = {name: hasher.encode(PASSWORD, hasher.salt()) for name, hasher in kinds.items()}
    cpu = {name: [] for name in kinds}
    wall = {name: [] for name in kinds}
    for number in range(ROUNDS + 2):
        order = list(kinds) if number % 2 == 0 else list(kinds)[::-1]  # alternating
        for name in order:
            cpu_s, wall_s = one_check(kinds[name], stored[name])
            if number >= 2:  # two warm-up rounds
                cpu[name].append(cpu_s)
                wall[name].append(wall_s)
    print(f"\nPassword check (= one login), Argon2id, median of {ROUNDS}, alternating:")
    rates = {}
    for name in kinds:
        rates[name] = 1 / statistics.median(cpu[name])
        print(f"  {name:34} {statistics.median(cpu[name]) * 1000:7.1f} ms CPU "
              f"{statistics.median(wall[name]) * 1000:7.1f} ms wall  "
              f"{rates[name]:6.1f} logins/s per core")
    default_name, portal_name, _reference = kinds
    old, new = rates[default_name], rates[portal_name]
    per_round = sorted(slow / fast for slow, fast in zip(cpu[default_name], cpu[portal_name]))
    ratio = statistics.median(per_round)
    quartiles = statistics.quantiles(per_round, n=4)
    print(f"  ratio portal/default: {ratio:.2f}x logins per core (median of {ROUNDS} "
          f"per-round ratios; quartiles {quartiles[0]:.2f}-{quartiles[2]:.2f}; ratio of the "
          f"medians {new / old:.2f}x); target >= {TARGET_RATIO:.0f}x (the issue's "
          f"{ISSUE_LOGINS_PER_CORE:.0f}/s where the default made 6.25/s); here {new:.1f} "
          f"logins/s per core")
    record("login POST: Argon2id m=19 MiB t=2 p=1 (password check)",
           f"Django default m=100 MiB t=2 p=8: {old:.1f} logins/s per core",
           f"{new:.1f} logins/s per core",
           f"{ratio:.2f}x (IQR {quartiles[0]:.2f}-{quartiles[2]:.2f})",
           f">= {TARGET_RATIO:.0f}x (issue: 50/s vs 6.25/s)", ratio >= TARGET_RATIO)
    assert ratio >= TARGET_RATIO
