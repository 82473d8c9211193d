"""Benchmark: the 24-hour email-change sweep on PostgreSQL (issue: "My account").

For each size, in a fresh process (so that peak memory is its own):
  1. N customers with a due, confirmed email-change request, made with SQL;
  2. the floor: the same changes done by plain bulk SQL statements, rolled back;
  3. the real sweep (services.email_changes_apply_due): accounts, requests, security log
     and two queued notices per request.
It prints both times, their ratio, and the memory the sweep added (peak RSS growth).
Targets: ratio <= 5 at the largest size; memory growth flat as the count grows.

Run with `make bench` (starts a private PostgreSQL when DATABASE_URL is not one) or
`BENCH_SWEEP_SIZES=10000,100000 python -m pytest benchmarks/bench_email_change_sweep.py -s`
(the default, 10,000 and 50,000, keeps `make bench` under 10 minutes; issue 18 measured
at 100,000).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from benchmarks.table import record

ROOT = Path(__file__).resolve().parents[1]
SIZES = [int(n) for n in os.environ.get("BENCH_SWEEP_SIZES", "10000,50000").split(",")]
MAX_RATIO = 5.0

SEED_SQL = """
INSERT INTO accounts_user (password, nic_handle, email, spare_email, first_name, last_name,
    legal_form, organisation, address, city, zip, country, phone, language,
    login_notifications, is_staff, is_active, is_superuser, date_joined,
    invoice_list_version, security_version, vat_number)
SELECT '!', 'bs' || lpad(n::text, 6, '0') || '-OVH', 'bench' || n || '@example.org', '',
       'Bench', 'Sweep', 'individual', '', '', '', '', '', '', 'en', true, false, true,
       false, now(), gen_random_uuid(), gen_random_uuid(), ''
FROM generate_series(1, {n}) AS n;
INSERT INTO accounts_emailchangerequest (user_id, old_email, new_email, state, code_hash,
    code_sent_at, codes_sent, wrong_codes, new_email_confirmed_at, created_at, due_at, reason,
    staff_note)
SELECT id, email, 'moved.' || email, 'todo', 'x', now() - interval '25 hours', 1, 0,
       now() - interval '24 hours', now() - interval '25 hours', now() - interval '1 hour', '',
       ''
FROM accounts_user WHERE nic_handle LIKE 'bs%';
ANALYZE;
"""

DUE = """r.state = 'todo' AND r.due_at <= now() AND r.new_email_confirmed_at IS NOT NULL"""

FLOOR_SQL = [
    f"""UPDATE accounts_user u SET email = r.new_email,
            email_confirmed_at = r.new_email_confirmed_at
        FROM accounts_emailchangerequest r WHERE r.user_id = u.id AND {DUE}""",
    f"""INSERT INTO accounts_securityevent (user_id, action, user_agent, detail, created_at)
        SELECT r.user_id, 'email_changed', '',
               json_build_object('old_email', r.old_email, 'new_email', r.new_email,
                                 'how', 'no_refusal'), now()
        FROM accounts_emailchangerequest r WHERE {DUE}""",
    f"""INSERT INTO notifications_outboundemail (user_id, kind, to_address, language, subject,
            body_text, body_html, context, sealed_secrets, rendered_at, status, attempts,
            last_error, created_at, next_attempt_at)
        SELECT r.user_id, 'email_changed', a.address, 'en', '', '', '',
               json_build_object('old_email', r.old_email, 'new_email', r.new_email), '', NULL,
               'queued', 0, '', now(), now()
        FROM accounts_emailchangerequest r
        CROSS JOIN LATERAL (VALUES (r.old_email), (r.new_email)) AS a(address)
        WHERE {DUE}""",
    f"""UPDATE accounts_emailchangerequest r SET state = 'done', decided_at = now(),
            reason = 'no_refusal' WHERE {DUE}""",
]

CHILD = r"""
import json, os, sys, time
import django
django.setup()
from django.db import connection, transaction
from accounts import services
from accounts.models import EmailChangeRequest, User
from notifications.models import OutboundEmail
sys.path.insert(0, os.environ["BENCH_DIR"])
from bench_email_change_sweep import FLOOR_SQL, SEED_SQL

n = int(sys.argv[1])
with connection.cursor() as cursor:
    # Several statements in one: PostgreSQL takes them only without bound parameters.
    cursor.execute(SEED_SQL.format(n=n))

# The floor, rolled back so that the sweep finds the same rows.
start = time.perf_counter()
with transaction.atomic():
    with connection.cursor() as cursor:
        for statement in FLOOR_SQL:
            cursor.execute(statement)
    floor = time.perf_counter() - start
    transaction.set_rollback(True)

def peak_rss_kib():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

# Reset the peak-RSS mark (Linux), so that the peak read after the sweep is the sweep's.
with open("/proc/self/clear_refs", "w") as marks:
    marks.write("5")
rss_before = peak_rss_kib()
start = time.perf_counter()
applied = services.email_changes_apply_due()
sweep = time.perf_counter() - start
rss_after = peak_rss_kib()
assert applied == n, (applied, n)
assert EmailChangeRequest.objects.filter(state="done").count() == n
assert OutboundEmail.objects.filter(kind="email_changed").count() == 2 * n
assert User.objects.filter(email__startswith="moved.").count() == n
print(json.dumps({"n": n, "floor": floor, "sweep": sweep,
                  "rss_growth_kib": rss_after - rss_before}))
"""


def run_size(n, database_url):
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "portal.settings",
           "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "benchmark-only-key",
           "CELERY_BROKER_URL": "memory://", "BENCH_DIR": str(Path(__file__).parent),
           "DJANGO_LOG_LEVEL": "WARNING"}
    result = subprocess.run([sys.executable, "-c", CHILD, str(n)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_sweep_of_due_email_changes_against_plain_bulk_sql(fresh_postgres_database):
    rows = [run_size(n, fresh_postgres_database(f"sweep_{n}")) for n in SIZES]
    print()
    print(f"{'requests':>9} {'bulk SQL floor':>15} {'sweep':>9} {'ratio':>6} {'RSS growth':>11}")
    for row in rows:
        row["ratio"] = row["sweep"] / row["floor"]
        print(f"{row['n']:>9} {row['floor']:>14.2f}s {row['sweep']:>8.2f}s {row['ratio']:>6.2f}"
              f" {row['rss_growth_kib'] / 1024:>9.1f}MB")
    largest = rows[-1]
    record(f"24-hour email-change sweep, {largest['n']:,} requests",
           f"bulk SQL floor {largest['floor']:.2f} s", f"{largest['sweep']:.2f} s",
           f"{largest['ratio']:.2f}", f"<= {MAX_RATIO:.0f}", largest["ratio"] <= MAX_RATIO)
    assert largest["ratio"] <= MAX_RATIO, f"sweep is {largest['ratio']:.2f}x the bulk SQL floor"
    smallest = rows[0]
    # Flat memory: ten times the rows may not cost much more than the first batch did.
    assert largest["rss_growth_kib"] <= max(2 * smallest["rss_growth_kib"], 64 * 1024)
