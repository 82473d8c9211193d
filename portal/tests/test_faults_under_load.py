"""Faults under load (issue 19): customers sign up, log in, change their email address
and order, through two gunicorn processes, two Celery workers and a beat, on a
PostgreSQL cluster, Redis and an SMTP sink of this test's own (faults.py), while the test
restarts PostgreSQL, restarts and freezes Redis, makes the SMTP server answer 451, kills
a worker in the middle of a delivery and starts a second beat by mistake. Then, once
the system has settled: nothing half-done, every email delivered exactly once, every
timed job acted once per row, and pages answered within the broker's timeouts.

It prints a summary. FAULTS_LOAD_SECONDS (default 100) and FAULTS_SMTP_451_SECONDS
(default 30) set its length; FAULTS_PORT_BASE its ports (see faults.py)."""

import collections
import email
import email.policy
import importlib.util
import itertools
import logging
import os
import random
import re
import shutil
import threading
import time
from urllib.parse import urlparse

import pytest

from conftest import PASSWORD, require, signup_data
from portal.liveness import age as liveness_age
from portal.tests.faults import LIVENESS_MAX_AGE, Stack, group_holding_port, postgres_bin

pytestmark = pytest.mark.services
logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request otherwise

LOAD_SECONDS = float(os.environ.get("FAULTS_LOAD_SECONDS", "100"))
SMTP_451_SECONDS = float(os.environ.get("FAULTS_SMTP_451_SECONDS", "30"))
SETTLE_SECONDS = 180
LOAD_THREADS = 4
REQUEST_TIMEOUT = 40  # more than gunicorn's 30 s worker timeout: a hung page shows as one
# A page may wait on Redis for the broker's connect and socket timeouts (2 + 3 s, see
# CELERY_BROKER_TRANSPORT_OPTIONS) and the cache's (1 s per call): well below this.
PAGE_BOUND = 15.0
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)"')
CODE = re.compile(r"\b([A-Z2-9]{8})\b")


def test_nothing_is_lost_or_doubled_while_postgresql_redis_smtp_workers_and_beat_fail():
    require(postgres_bin() is not None, "PostgreSQL's binaries (/usr/lib/postgresql/*/bin)")
    require(shutil.which("redis-server"), "redis-server (Debian package redis-server)")
    for module in ("gunicorn", "celery", "httpx"):
        require(importlib.util.find_spec(module) is not None, f"{module} in the venv")

    started = time.monotonic()
    stack = Stack()
    passed = False
    try:
        stack.start()
        run = LoadRun(stack)
        run.go()
        summary = run.check()
        print(f"\n{summary}\nTotal time: {time.monotonic() - started:.0f} s")
        passed = True
    finally:
        stack.close()
        if passed:
            stack.remove()
        else:
            print(stack.logs())
            print(f"Every log is kept in {stack.folder}")


class LoadRun:
    def __init__(self, stack):
        self.stack = stack
        self.bases = [f"http://127.0.0.1:{web.port}" for web in stack.webs]
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.counter = itertools.count(1)
        self.requests = collections.Counter()  # HTTP status class -> count
        self.outcomes = collections.Counter()  # (action, outcome) -> count
        self.latencies = []
        self.exits = []  # workers or beats the supervisor restarted, and why
        self.failed_at = collections.Counter()  # second of the run -> 5xx or no answer
        self.signups = []  # (address, outcome)
        self.accounts = []  # addresses free for logins, email changes and orders
        self.changes = []  # {"old", "new", "mode", "browser"} the portal accepted
        self.orders = []  # order ids the portal confirmed
        self.faults = []  # (seconds since the load started, what)
        self.errors = []  # unexpected exceptions in the driver's threads
        self.settled_follow_up = threading.Event()
        self.settle_seconds = 0.0
        self.paid = set()  # orders whose service the follow-up activated
        self.parsed = {}  # (file name, size, mtime) -> the sink's message, parsed
        self.product_id = self.sql_one("SELECT id FROM billing_product WHERE code = 'web-hosting'")

    # --- the database, read and time-travelled directly -------------------------------

    def sql(self, query, args=(), *, tries=20):
        """Rows of `query` on the test's cluster, tried again while it restarts."""
        for attempt in range(tries):
            try:
                conn = self.stack.postgres.connect()
                try:
                    conn.autocommit = True
                    with conn.cursor() as cursor:
                        cursor.execute(query, args)
                        return cursor.fetchall() if cursor.description else cursor.rowcount
                finally:
                    conn.close()
            except Exception:
                if attempt == tries - 1:
                    raise
                time.sleep(0.5)

    def sql_one(self, query, args=()):
        return self.sql(query, args)[0][0]

    # --- the run ----------------------------------------------------------------------

    def go(self):
        self.t0 = time.monotonic()
        threads = [threading.Thread(target=self.guard, args=(self.customer, n), daemon=True)
                   for n in range(LOAD_THREADS)]
        threads.append(threading.Thread(target=self.guard, args=(self.supervise, 0),
                                        daemon=True))
        threads.append(threading.Thread(target=self.guard, args=(self.follow_up, 0),
                                        daemon=True))
        for thread in threads:
            thread.start()
        try:
            try:
                self.inject_faults()
                time.sleep(max(0.0, LOAD_SECONDS - self.elapsed()))
            finally:
                self.stop.set()
                for thread in threads[:LOAD_THREADS]:
                    thread.join(timeout=REQUEST_TIMEOUT * 4)
            self.settle(threads[-1])
        finally:
            self.settled_follow_up.set()  # also when a fault could not be injected

    def elapsed(self):
        return time.monotonic() - self.t0

    def guard(self, work, n):
        try:
            work(n)
        except Exception as exc:  # noqa: BLE001 - reported by check()
            self.errors.append(repr(exc))

    def supervise(self, _n):
        """What systemd or any process supervisor does in production: a worker or beat
        that exits by itself (not one this test killed) is started again, and so is a
        worker that fails the liveness probe (`python -m portal.liveness`: its file not
        touched for LIVENESS_MAX_AGE seconds). Each restart is reported in the summary."""
        handled = set()
        while not self.settled_follow_up.is_set():
            with self.stack.lock:  # the kill step holds it while it kills
                self.restart_exited(handled)
                self.restart_deaf()
            time.sleep(1)

    def restart_deaf(self):
        for worker in list(self.stack.workers):
            if not worker.running:
                continue
            seconds = liveness_age(worker.env["WORKER_LIVENESS_FILE"])
            if seconds is None or seconds <= LIVENESS_MAX_AGE:
                continue
            self.exits.append(f"{worker.name} failed the liveness probe at "
                              f"{self.elapsed():.0f} s (file not touched for {seconds:.0f} s), "
                              "restarted")
            print(f"[{self.elapsed():5.1f} s] {self.exits[-1]}", flush=True)
            self.stack.worker_restart(worker)

    def restart_exited(self, handled):
        for service in [*self.stack.workers, *self.stack.beats]:
            process = service.process
            if process is None or id(process) in handled or process.poll() is None:
                continue
            handled.add(id(process))
            last = [line for line in service.log().splitlines() if line.strip()][-1:]
            self.exits.append(f"{service.name} exited by itself at {self.elapsed():.0f} s "
                              f"(code {process.returncode}; last line: "
                              f"{last[0][:160] if last else ''})")
            print(f"[{self.elapsed():5.1f} s] {self.exits[-1]}", flush=True)
            if service in self.stack.beats:
                self.stack.beat_start()
            else:
                self.stack.worker_start()

    def fault(self, what):
        self.faults.append((round(self.elapsed()), what))
        print(f"[{self.elapsed():5.1f} s] fault: {what}", flush=True)

    def at(self, seconds):
        time.sleep(max(0.0, seconds - self.elapsed()))

    def inject_faults(self):
        stack = self.stack
        self.at(8)
        self.fault("a second beat started by mistake (both run to the end)")
        stack.beat_start()
        self.at(12)
        self.fault(f"the SMTP sink answers 451 to every recipient for {SMTP_451_SECONDS:.0f} s")
        stack.sink.answer("tempfail")
        time.sleep(SMTP_451_SECONDS)
        stack.sink.answer("accept")
        time.sleep(3)
        self.fault("PostgreSQL restarted (pg_ctl restart -m fast)")
        stack.postgres.restart_fast()
        time.sleep(8)
        self.fault("Redis restarted (SIGTERM, no persistence: its queues are lost)")
        stack.redis.stop()
        stack.redis.start()
        time.sleep(8)
        self.fault("Redis frozen (SIGSTOP) for 10 s, then SIGCONT")
        stack.redis.freeze()
        try:
            time.sleep(10)
        finally:
            stack.redis.thaw()
        time.sleep(5)
        self.kill_a_worker_mid_delivery()

    def kill_a_worker_mid_delivery(self):
        """Hold every RCPT at the sink, so that a worker is stuck in the middle of an SMTP
        conversation (nothing accepted yet); find the first worker seen there by the port
        of its connection, SIGKILL its whole process group, and start another."""
        stack = self.stack
        held_before = len(stack.sink.held())
        stack.sink.answer("hold")
        victim = None
        try:
            # Long enough for the supervisor to replace a worker that a Redis freeze
            # left deaf (probe age plus a restart) before one reaches the sink.
            deadline = time.monotonic() + LIVENESS_MAX_AGE + 60
            while victim is None and time.monotonic() < deadline:
                with stack.lock:  # the supervisor may replace a worker meanwhile
                    groups = {worker.process.pid: worker
                              for worker in stack.workers if worker.running}
                    for _address, port in stack.sink.held()[held_before:]:
                        group = group_holding_port(int(port), set(groups))
                        if group is not None:
                            victim = groups[group]
                            victim.kill()
                            break
                time.sleep(0.2)
            assert victim is not None, (
                f"No worker reached the SMTP sink within {LIVENESS_MAX_AGE + 60} s")
        finally:
            stack.sink.answer("accept")
        self.fault(f"{victim.name} killed (SIGKILL) in the middle of an SMTP delivery")
        stack.worker_start()
        self.fault("a replacement worker started")

    # --- the customers ----------------------------------------------------------------

    def customer(self, n):
        rng = random.Random(n)
        while not self.stop.is_set():
            with self.lock:
                free = len(self.accounts)
            roll = rng.random()
            if free < 3 or roll < 0.4:
                self.signup()
            elif roll < 0.7:
                self.login_only()
            elif roll < 0.85:
                self.email_change(mode="code" if rng.random() < 0.5 else "due")
            else:
                self.order()

    def browser(self):
        n = next(self.counter)
        return Browser(self, self.bases[n % len(self.bases)],
                       f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}")

    def record(self, action, outcome):
        with self.lock:
            self.outcomes[action, outcome] += 1

    def take_account(self):
        with self.lock:
            return self.accounts.pop(random.randrange(len(self.accounts))) if self.accounts else None

    def give_back(self, address):
        with self.lock:
            self.accounts.append(address)

    def signup(self):
        address = f"load-{next(self.counter)}-{os.getpid()}@example.org"
        with self.browser() as browser:
            outcome = browser.submit("/signup/", signup_data(email=address, spare_email=""),
                                     expect="/signup/done/")
        self.record("signup", outcome)
        with self.lock:
            self.signups.append((address, outcome))
            if outcome == "ok":
                self.accounts.append(address)

    def log_in(self, browser, address):
        return browser.submit("/login/", {"username": address, "password": PASSWORD},
                              expect="/account/")

    def login_only(self):
        address = self.take_account()
        if address is None:
            return
        with self.browser() as browser:
            outcome = self.log_in(browser, address)
        self.give_back(address)
        self.record("login", outcome)

    def email_change(self, *, mode):
        """Ask for a new address; the follow-up thread then confirms it from the email
        the sink got, and either types the code ("code") or moves the request's due
        time into the past so that beat applies it ("due"). The account is not used
        again (its address is about to change)."""
        address = self.take_account()
        if address is None:
            return
        new = address.replace("load-", f"moved-{mode}-")
        browser = self.browser()
        outcome = self.log_in(browser, address)
        if outcome == "ok":
            outcome = browser.submit("/account/email/", {"new_email": new, "new_email2": new,
                                                         "password": PASSWORD},
                                     expect="/account/email/")
        self.record(f"email change ({mode})", outcome)
        if outcome == "ok":
            with self.lock:
                self.changes.append({"old": address, "new": new, "mode": mode,
                                     "browser": browser, "done": False})
        else:
            browser.close()

    def order(self):
        address = self.take_account()
        if address is None:
            return
        with self.browser() as browser:
            outcome = self.log_in(browser, address)
            if outcome == "ok":
                fields = {"product": self.product_id, "period": "year",
                          "service_name": f"site{next(self.counter)}.example.org"}
                outcome, page = browser.submit("/billing/orders/new/", fields, expect=None)
                if outcome == "ok":
                    confirm = dict(HIDDEN.findall(page))
                    confirm["confirm"] = "1"
                    outcome = browser.post_form("/billing/orders/new/", confirm,
                                                expect="/billing/orders/", page=page)
                    if outcome == "ok":
                        order_id = int(browser.last_location.rstrip("/").rsplit("/", 1)[1])
                        with self.lock:
                            self.orders.append(order_id)
        self.give_back(address)
        self.record("order", outcome)

    # --- what happens after a request: links and codes from emails, time travel -------

    def follow_up(self, _n):
        """Until the run has settled: confirm requested addresses from the sink's emails,
        type codes or make the 24 hours pass; pay for confirmed orders and bring their
        services within the renewal notice, for beat's renewal job."""
        paid = self.paid
        while not self.settled_follow_up.is_set():
            with self.lock:
                changes = [change for change in self.changes if not change["done"]]
                orders = [order for order in self.orders if order not in paid]
            try:
                # Orders first: a few quick UPDATEs, not held up by the emails below.
                for order in orders:
                    # Paid by staff, and 10 days from expiry: the renewal is due now.
                    self.sql("UPDATE billing_service SET status = 'active', auto_renew = true, "
                             "expires_at = now() + interval '10 days' WHERE id IN (SELECT "
                             "service_id FROM billing_orderline WHERE order_id = %s)", (order,))
                    paid.add(order)
                for change in changes:
                    self.change_follow_up(change)
            except Exception as exc:  # noqa: BLE001 - a fault in progress: next round
                print(f"[{self.elapsed():5.1f} s] follow-up put off: {exc!r}", flush=True)
            time.sleep(0.5)

    def change_follow_up(self, change):
        if not change.get("confirmed"):
            messages = self.sink_messages(to=change["new"])
            links = [re.search(r"https?://\S+/account/email/confirm/\S+?/", text)
                     for text in map(body_text, messages)]
            links = [link.group(0) for link in links if link]
            if not links:
                return
            outcome = change["browser"].get_status(urlparse(links[0]).path)
            # The link may have been used while its answer was lost in a fault (the
            # token is single use, so asking again cannot succeed): the row says.
            if outcome != 200 and not self.sql(
                    "SELECT 1 FROM accounts_emailchangerequest WHERE new_email = %s "
                    "AND new_email_confirmed_at IS NOT NULL", (change["new"],)):
                return
            change["confirmed"] = True
        if change["mode"] == "due":
            if self.sql("UPDATE accounts_emailchangerequest SET due_at = now() - interval "
                        "'1 minute' WHERE new_email = %s AND state = 'todo'", (change["new"],)):
                change["done"] = True
            return
        codes = [CODE.findall(body_text(message).split("code:", 1)[-1])
                 for message in self.sink_messages(to=change["old"])
                 if "code:" in body_text(message)]
        codes = [found[0] for found in codes if found]
        if not codes:
            return
        outcome = change["browser"].submit("/account/email/verify/", {"code": codes[-1]},
                                           expect="/account/profile/")
        state = self.sql("SELECT state FROM accounts_emailchangerequest WHERE new_email = %s",
                         (change["new"],))
        if outcome == "ok" or (state and state[0][0] == "done"):
            change["done"] = True

    def sink_messages(self, to=None):
        """The sink's messages (to `to`). Each file is parsed once, not on every call:
        parsing them all for each pending change made a round of follow-ups take
        minutes on a loaded machine (hundreds of messages, dozens of changes)."""
        folder = self.stack.sink.mail.folder
        found = []
        for path in sorted(folder.glob("*.eml")) if folder.exists() else []:
            try:
                stat = path.stat()
                key = (path.name, stat.st_size, stat.st_mtime_ns)
                message = self.parsed.get(key)
                if message is None:
                    message = email.message_from_bytes(path.read_bytes(),
                                                       policy=email.policy.default)
                    self.parsed[key] = message
            except FileNotFoundError:
                continue
            if to is None or to.lower() in message.get("X-Sink-Rcpt-To", "").lower():
                found.append(message)
        return found

    # --- settling ---------------------------------------------------------------------

    def settle(self, follow_up_thread):
        """Wait (bounded) until every follow-up is done, each timed job has acted and no
        email is left queued or being sent. After that no email can go out any more:
        a late task message finds its row sent."""
        deadline = time.monotonic() + SETTLE_SECONDS
        wanted = None
        while time.monotonic() < deadline:
            wanted = self.unsettled()
            if not wanted:
                break
            time.sleep(1)
        self.settled_follow_up.set()
        follow_up_thread.join(timeout=30)
        for change in self.changes:
            change["browser"].close()
        self.settle_seconds = SETTLE_SECONDS - (deadline - time.monotonic())
        assert not wanted, (f"Not settled after {SETTLE_SECONDS} s: {wanted}\n"
                            + self.unsettled_details())
        time.sleep(2)  # what is at the sink is written before its row is marked sent

    def unsettled(self):
        waiting = {}
        with self.lock:
            pending = [change["new"] for change in self.changes if not change["done"]]
        if pending:
            waiting["follow-ups"] = len(pending)
        with self.lock:
            unpaid = len(set(self.orders) - self.paid)
        if unpaid:
            waiting["orders not paid yet"] = unpaid
        todo = self.sql_one("SELECT count(*) FROM accounts_emailchangerequest r JOIN "
                            "accounts_user u ON u.id = r.user_id WHERE r.state = 'todo' "
                            "AND r.new_email = ANY(%s)", ([c["new"] for c in self.changes],))
        if todo:
            waiting["email changes not applied"] = todo
        unrenewed = self.sql_one(
            "SELECT count(*) FROM billing_service s WHERE s.status = 'active' AND NOT EXISTS "
            "(SELECT 1 FROM billing_invoiceline l WHERE l.service_id = s.id AND "
            "l.period_start = s.expires_at)")
        if unrenewed:
            waiting["services not renewed"] = unrenewed
        open_rows = self.sql_one("SELECT count(*) FROM notifications_outboundemail "
                                 "WHERE status IN ('queued', 'sending')")
        if open_rows:
            waiting["emails queued or sending"] = open_rows
        return waiting

    def unsettled_details(self):
        """What a failed settlement was waiting for, row by row, to tell a harness
        problem (a follow-up that never acted) from a product one."""
        lines = []
        with self.lock:
            pending = [dict(change, browser=None) for change in self.changes
                       if not change["done"]]
        for change in pending:
            lines.append(f"follow-up not done: {change}")
            for row in self.sql("SELECT id, state, reason, new_email_confirmed_at, due_at, "
                                "code_sent_at FROM accounts_emailchangerequest "
                                "WHERE new_email = %s", (change["new"],)):
                lines.append(f"  request {row}")
            for row in self.sql("SELECT id, kind, status, attempts, left(last_error, 80), "
                                "to_address FROM notifications_outboundemail "
                                "WHERE to_address IN (%s, %s)", (change["old"], change["new"])):
                lines.append(f"  email {row}")
        for row in self.sql("SELECT id, kind, status, attempts, left(last_error, 80), "
                            "to_address FROM notifications_outboundemail "
                            "WHERE status IN ('queued', 'sending')"):
            lines.append(f"open email {row}")
        return "\n".join(lines)

    # --- the checks -------------------------------------------------------------------

    def check(self):
        problems = list(self.errors)
        # Signups: whole or nothing.
        users = {address: (user_id, handle) for user_id, address, handle in self.sql(
            "SELECT u.id, u.email, u.nic_handle FROM accounts_user u")}
        moved = {change["new"]: change["old"] for change in self.changes}
        by_old_address = {moved.get(address, address): value
                          for address, value in users.items()}
        half = self.sql(
            "SELECT u.email FROM accounts_user u WHERE u.nic_handle = '' "
            "OR NOT EXISTS (SELECT 1 FROM accounts_issuednichandle h "
            "               WHERE lower(h.handle) = lower(u.nic_handle)) "
            "OR NOT EXISTS (SELECT 1 FROM notifications_outboundemail e "
            "               WHERE e.user_id = u.id AND e.kind = 'account_created')")
        if half:
            problems.append(f"Half-created accounts: {half[:5]}")
        orphans = self.sql_one("SELECT count(*) FROM notifications_outboundemail "
                               "WHERE kind = 'account_created' AND user_id IS NULL")
        if orphans:
            problems.append(f"{orphans} confirmation email(s) without an account")
        ok_missing = [address for address, outcome in self.signups
                      if outcome == "ok" and address not in by_old_address]
        if ok_missing:
            problems.append(f"Signups answered 'check your inbox' with no account: {ok_missing[:5]}")
        unanswered = {action: count for (action, outcome), count in self.outcomes.items()
                      if outcome == "no answer"}
        if unanswered:
            problems.append(f"Requests that got no page at all (not even an error page): "
                            f"{unanswered}")
        created_on_error = sum(1 for address, outcome in self.signups
                               if outcome != "ok" and address in by_old_address)

        # Emails: every row sent, each exactly once at the sink, nothing else there.
        rows = dict(self.sql("SELECT id, status FROM notifications_outboundemail"))
        statuses = collections.Counter(rows.values())
        seen = collections.Counter()
        for path in sorted(self.stack.sink.mail.folder.glob("*.eml")):
            with open(path, "rb") as handle:
                headers = email.message_from_binary_file(handle, policy=email.policy.default)
            seen[headers["Message-ID"]] += 1
        ids = {}
        for message_id in seen:
            match = re.fullmatch(r"<outbox-(\d+)@[^>]+>", message_id or "")
            ids[message_id] = int(match.group(1)) if match else None
        duplicated = sum(count - 1 for count in seen.values())
        strangers = [message_id for message_id, pk in ids.items() if pk not in rows]
        delivered = {pk for pk in ids.values() if pk in rows}
        lost = sorted(set(rows) - delivered)
        not_sent = {pk: status for pk, status in rows.items() if status != "sent"}
        if duplicated:
            problems.append(f"{duplicated} duplicate(s): "
                            f"{[m for m, c in seen.items() if c > 1][:5]}")
        if lost:
            problems.append(f"{len(lost)} email(s) lost: {lost[:10]}")
        if strangers:
            problems.append(f"Emails at the sink that no row queued: {strangers[:5]}")
        if not_sent:
            problems.append(f"Rows not sent: {dict(list(not_sent.items())[:10])}")

        # Timed jobs: each email change applied once, each renewal issued once.
        for change in self.changes:
            state = self.sql("SELECT r.state, u.email, (SELECT count(*) FROM "
                             "accounts_securityevent e WHERE e.user_id = u.id AND "
                             "e.action = 'email_changed') FROM accounts_emailchangerequest r "
                             "JOIN accounts_user u ON u.id = r.user_id WHERE r.new_email = %s",
                             (change["new"],))
            if state != [("done", change["new"], 1)]:
                problems.append(f"Email change to {change['new']}: {state}")
        notices = self.sql_one("SELECT count(*) FROM notifications_outboundemail "
                               "WHERE kind = 'email_changed'")
        if notices != 2 * len(self.changes):
            problems.append(f"{notices} email-changed notices for {len(self.changes)} changes "
                            "(one to each address expected)")
        renewals = self.sql("SELECT s.id, count(l.id) FROM billing_service s JOIN "
                            "billing_invoiceline l ON l.service_id = s.id JOIN billing_invoice i "
                            "ON i.id = l.invoice_id AND i.kind = 'renewal' "
                            "WHERE s.status = 'active' GROUP BY s.id")
        twice = [service for service, count in renewals if count != 1]
        if twice:
            problems.append(f"Services renewed more than once: {twice}")
        renewal_emails = self.sql_one("SELECT count(*) FROM notifications_outboundemail "
                                      "WHERE kind = 'renewal_invoice'")
        if renewal_emails != len(renewals) or len(renewals) != len(self.orders):
            problems.append(f"{len(self.orders)} paid services, {len(renewals)} renewed, "
                            f"{renewal_emails} renewal emails")

        # Pages: none waited past the broker's timeouts.
        slowest = max(self.latencies, default=0.0)
        if slowest > PAGE_BOUND:
            problems.append(f"A page took {slowest:.1f} s (bound {PAGE_BOUND} s)")

        applied_by_beat = sum(1 for change in self.changes if change["mode"] == "due")
        attempts = collections.Counter(dict(self.sql(
            "SELECT attempts, count(*) FROM notifications_outboundemail GROUP BY attempts")))
        logs = {service.name: service.log() for service in self.stack.services()}
        workers_log = "".join(log for name, log in logs.items() if name.startswith("worker"))
        requeued = sum(int(n) for n in re.findall(r"Re-queued (\d+) email", workers_log))
        marked_again = workers_log.count("could not be marked sent")
        tempfails = logs["sink"].count("\nTEMPFAIL ")
        beat_sends = {name: log.count("Sending due task") for name, log in logs.items()
                      if name.startswith("beat")}
        lines = [
            "=== Faults under load: summary ===",
            f"Load: {LOAD_SECONDS:.0f} s, {LOAD_THREADS} customer threads, 2 gunicorn, "
            f"2 workers (+1 replacement), beat (+1 by mistake); settled in "
            f"{self.settle_seconds:.0f} s",
            "Faults injected:",
            *(f"  [{at:3d} s] {what}" for at, what in self.faults),
            f"HTTP requests: {sum(self.requests.values())} "
            f"({', '.join(f'{k}: {v}' for k, v in sorted(self.requests.items()))}); "
            f"slowest {slowest:.2f} s, 95th percentile {percentile(self.latencies, 95):.2f} s",
            f"5xx pages (or no answer) at second of the run: "
            f"{dict(sorted(self.failed_at.items())) or 'none'}",
            "Actions and outcomes:",
            *(f"  {action}: {outcome} x{count}"
              for (action, outcome), count in sorted(self.outcomes.items())),
            f"Accounts: {len(users)} (signups answered ok: "
            f"{sum(1 for _a, o in self.signups if o == 'ok')}, created although the page "
            f"failed: {created_on_error}, half-created: {len(half)})",
            f"Email changes applied: {len(self.changes)} ({applied_by_beat} by beat's 24-hour "
            f"rule, {len(self.changes) - applied_by_beat} by code); renewals issued: "
            f"{len(renewals)} for {len(self.orders)} paid orders",
            f"Timed jobs sent by each beat: {beat_sends}",
            f"Workers or beats restarted by the supervisor (exited, or failed the "
            f"liveness probe): "
            f"{self.exits or 'none'}",
            f"SMTP: {tempfails} recipients answered 451; attempts per email "
            f"{dict(sorted(attempts.items()))}; re-queued by the beat job: {requeued}; "
            f"sent emails marked sent only after a retry (database restarting): {marked_again}",
            f"Emails queued: {len(rows)} ({', '.join(f'{k}: {v}' for k, v in sorted(statuses.items()))}); "
            f"delivered: {len(delivered)}; duplicated: {duplicated}; lost: {len(lost)}",
        ]
        summary = "\n".join(lines)
        assert not problems, summary + "\nProblems:\n" + "\n".join(problems)
        # The faults bit: deliveries met the 451s, both beats sent the jobs, and the
        # killed worker's email came back through the re-queue job.
        assert len(self.faults) == 7, summary
        assert tempfails > 0 and requeued > 0, summary
        assert len(beat_sends) >= 2 and all(beat_sends.values()), summary
        assert self.outcomes and self.changes and self.orders, summary
        return summary


def percentile(values, pct):
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


def body_text(message):
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


class Browser:
    """One customer's browser: cookies, CSRF tokens read from the forms, its own
    forwarded address (the rate limits count per address)."""

    def __init__(self, run, base, address):
        import httpx

        self.run = run
        self.http = httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT,
                                 follow_redirects=False,
                                 headers={"X-Forwarded-For": address,
                                          "User-Agent": "faults-under-load/1"})
        self.last_location = ""
        self.httpx = httpx

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.http.close()

    def request(self, method, path, **kwargs):
        """The response, or None when no answer came (refused, reset, timed out)."""
        started = time.monotonic()
        try:
            response = self.http.request(method, path, **kwargs)
        except self.httpx.HTTPError:
            response = None
        elapsed = time.monotonic() - started
        with self.run.lock:
            self.run.latencies.append(elapsed)
            self.run.requests["no answer" if response is None
                              else f"{response.status_code // 100}xx"] += 1
            if response is None or response.status_code >= 500:
                self.run.failed_at[round(self.run.elapsed())] += 1
        return response

    def get_status(self, path):
        response = self.request("GET", path)
        return None if response is None else response.status_code

    def submit(self, path, fields, *, expect):
        """GET the form, POST it with its CSRF token. With `expect`, the outcome ("ok"
        when redirected there); without, (outcome, page) for a form answered by a page."""
        page = self.request("GET", path)
        if page is None or page.status_code != 200:
            outcome = classify(page)
            return outcome if expect else (outcome, "")
        return self.post_form(path, fields, expect=expect, page=page.text)

    def post_form(self, path, fields, *, expect, page):
        token = CSRF.search(page)
        if token is None:
            return "error page" if expect else ("error page", "")
        response = self.request("POST", path, data={**fields,
                                                    "csrfmiddlewaretoken": token.group(1)})
        if expect is None:
            if response is not None and response.status_code == 200 and (
                    'name="confirm"' in response.text):
                return "ok", response.text
            return classify(response), ""
        if response is not None and response.status_code == 302:
            self.last_location = response.headers.get("location", "")
            if urlparse(self.last_location).path.startswith(expect):
                return "ok"
        return classify(response)


def classify(response):
    if response is None:
        return "no answer"
    if response.status_code >= 500:
        return "error page (5xx)"
    if response.status_code >= 400:
        return "error page (4xx)"
    if response.status_code == 200:
        return "form error"
    return f"redirected elsewhere ({response.status_code})"

