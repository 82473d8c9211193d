"""The outbox's delivery: send a row once, retry what SMTP put off, re-queue what got stuck.

What "once" means here. A worker claims a row (queued -> sending) with a conditional
UPDATE before it talks to SMTP, so two workers never send the same row and a duplicate
task message finds nothing to do. SMTP itself leaves one gap no client can close: when
the server has accepted the message but the worker dies (or the database stays
unreachable for longer than MARK_SENT_PATIENCE: a mere restart is waited for) before the
row is marked sent, the row stays `sending`. The re-queue job hands it back
after SENDING_TIMEOUT and it goes out again, with the same Message-ID so that receiving
servers and mail clients can fold the copy. That is a deliberate choice of at-least-once
over at-most-once: a lost security notice is worse than a rare duplicate.
"""

import functools
import logging
import smtplib
import time
from datetime import datetime, timedelta
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import get_connection
from django.db import InterfaceError, OperationalError, connection
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from notifications.mime import OutboxMessage
from notifications.models import OutboundEmail
from notifications.rendering import email_render_stored
from notifications.secrets import UnreadableSecrets, secrets_fill
from portal.queueing import task_send

log = logging.getLogger(__name__)

DELIVER_TASK = "notifications.tasks.deliver_email_task"
# The display name of the default DEFAULT_FROM_EMAIL, marked for the catalogues.
DEFAULT_SENDER_NAME = gettext_noop("Customer portal")
DELIVER_MANY_TASK = "notifications.tasks.deliver_emails_task"

MAX_ATTEMPTS = settings.EMAIL_MAX_ATTEMPTS
# A retry task may run a moment before the due time its row was given (both are taken
# from the clock at slightly different moments, possibly on two machines).
OWN_ROW_EARLY = timedelta(seconds=1)
MAX_RETRY_DELAY = timedelta(hours=1)
# A queued row this long overdue never reached a worker (broker down at commit, or the
# task message was lost). 5 minutes unless EMAIL_STALE_AFTER says otherwise.
STALE_AFTER = timedelta(seconds=settings.EMAIL_STALE_AFTER)
# Past the task's hard time limit (CELERY_TASK_TIME_LIMIT, 90 s; the settings refuse a
# shorter EMAIL_SENDING_TIMEOUT): a row `sending` for longer has no live worker behind it.
SENDING_TIMEOUT = timedelta(seconds=settings.EMAIL_SENDING_TIMEOUT)
REQUEUE_BATCH = 500

WORKER_LOST = "The worker delivering this email stopped before recording the outcome."
# A connection to the mail server idle for longer is closed rather than reused: servers
# drop idle clients (Postfix after 300 s, some relays after 30 s).
MAIL_CONNECTION_MAX_IDLE = 20.0


class TemporaryDeliveryError(Exception):
    """SMTP said "try later" (or could not be reached); the row stays queued."""

    def __init__(self, message: str, *, retry_in: timedelta):
        super().__init__(message)
        self.retry_in = retry_in


def retry_delay(attempts: int) -> timedelta:
    """Exponential back-off after `attempts` failed tries: the base delay
    (EMAIL_RETRY_BASE_DELAY, 30 s), then twice as long each time, at most an hour."""
    seconds = settings.EMAIL_RETRY_BASE_DELAY * 2 ** max(attempts - 1, 0)
    return min(timedelta(seconds=seconds), MAX_RETRY_DELAY)


def email_deliver(*, email_id: int) -> bool:
    """1. Claim the row (queued -> sending, one more attempt); stop if another worker has
       it or it is already done.
    2. Render it if it was queued in bulk, and keep the rendering.
    3. Send it with its stable Message-ID over this process's open connection to the
       configured backend (mail_connection), which is closed if anything fails.
    4. Mark it sent; or record the error and either fail it for good (the server refused
       this recipient or this message with a 5xx, or this was the last attempt) or put
       it back in the queue with a back-off, raising TemporaryDeliveryError so that the
       task retries then.
    Returns False when there was nothing to claim."""
    claimed = OutboundEmail.objects.filter(
        pk=email_id, status=OutboundEmail.Status.QUEUED
    ).update(status=OutboundEmail.Status.SENDING, claimed_at=timezone.now(),
             attempts=F("attempts") + 1)
    if not claimed:
        return False
    email = OutboundEmail.objects.select_related("user").get(pk=email_id)
    postponed = _send_claimed(email)
    if postponed is not None:
        raise postponed
    return True


def email_deliver_due(*, email_id: int | None = None,
                      limit: int | None = None) -> dict[int, TemporaryDeliveryError]:
    """Deliver a batch over one connection: claim up to `limit` (EMAIL_DELIVERY_BATCH)
    due queued rows, oldest first, then send them one after the other, each marked sent
    (or failed, or put back with its back-off) as soon as the server has answered.

    Every row is claimed before it is sent, as email_deliver does, so a row goes out
    once; the claim of the whole batch is one statement on PostgreSQL (UPDATE ...
    RETURNING over rows picked with FOR UPDATE SKIP LOCKED), so two workers take
    different rows. A worker that dies mid-batch leaves its unsent rows `sending`: the
    re-queue job hands them back after SENDING_TIMEOUT. `email_id` (the row the task was
    published for) is claimed on its first attempt whatever its due time, as
    email_deliver does, later only once due (OWN_ROW_EARLY before at most); other rows
    only once due. A row that fails inside another row's batch gets a retry task with
    its back-off (deliver_email_task); its own first task, if still waiting in the
    broker, then finds it waiting and leaves it: a row collects a task each time it
    fails in a batch, and those must not cut its back-off short (under a long SMTP
    outage they did: eight attempts in forty seconds).

    Returns {id: TemporaryDeliveryError} for the rows put back with a back-off; the
    caller schedules their retries."""
    limit = limit or settings.EMAIL_DELIVERY_BATCH
    postponed = {}
    for email in _claim_due(email_id=email_id, limit=limit):
        error = _send_claimed(email)
        if error is not None:
            postponed[email.pk] = error
    return postponed


def _claim_due(*, email_id: int | None, limit: int) -> list[OutboundEmail]:
    """Claim `email_id` if it is queued and never tried or due (its task was published
    for it), and up to `limit` rows in all with the oldest other due rows; load them."""
    now = timezone.now()
    if connection.vendor == "postgresql":
        return _claim_returning(email_id=email_id, now=now, limit=limit)
    queued = OutboundEmail.objects.filter(status=OutboundEmail.Status.QUEUED)
    own = queued.filter(Q(attempts=0) | Q(next_attempt_at__lte=now + OWN_ROW_EARLY),
                        pk=email_id)
    others = (queued.filter(next_attempt_at__lte=now).exclude(pk=email_id)
              .order_by("next_attempt_at", "pk"))
    # Elsewhere (SQLite, one writer at a time): a conditional UPDATE per row, then one read.
    candidates = [*own.values_list("pk", flat=True),
                  *others.values_list("pk", flat=True)[:limit]][:limit]
    claimed = [pk for pk in candidates
               if queued.filter(pk=pk).update(status=OutboundEmail.Status.SENDING,
                                              claimed_at=now, attempts=F("attempts") + 1)]
    emails = OutboundEmail.objects.in_bulk(claimed)
    return [emails[pk] for pk in claimed]


@functools.cache
def _claim_sql(*, own: bool, others: bool) -> str:
    """The claim statement of one shape, written once per process: picking the rows
    with FOR UPDATE SKIP LOCKED and marking them `sending` is a single statement, so it
    needs no transaction around it, and PostgreSQL prepares it (portal.settings)."""
    meta, quote = OutboundEmail._meta, connection.ops.quote_name
    column = {name: quote(meta.get_field(name).column)
              for name in ("id", "status", "next_attempt_at", "claimed_at", "attempts")}
    table, pk, due = quote(meta.db_table), column["id"], column["next_attempt_at"]
    picks = []
    if own:
        picks.append(f"WHERE {column['status']} = %s AND {pk} = %s "
                     f"AND ({column['attempts']} = 0 OR {due} <= %s)")
    if others:
        not_own = f" AND {pk} <> %s" if own else ""
        picks.append(f"WHERE {column['status']} = %s AND {due} <= %s{not_own} "
                     f"ORDER BY {due}, {pk} LIMIT %s")
    # FOR UPDATE is refused in a UNION's own branches, allowed in their subqueries.
    union = " UNION ALL ".join(
        f"SELECT {pk} FROM (SELECT {pk} FROM {table} {pick} FOR UPDATE SKIP LOCKED) AS p{n}"
        for n, pick in enumerate(picks))
    returned = ", ".join(f"e.{quote(field.column)}" for field in meta.concrete_fields)
    return (f"WITH picked ({pk}) AS ({union}) "
            f"UPDATE {table} AS e SET {column['status']} = %s, {column['claimed_at']} = %s, "
            f"{column['attempts']} = e.{column['attempts']} + 1 "
            f"FROM picked WHERE e.{pk} = picked.{pk} RETURNING {returned}")


def _claim_returning(*, email_id: int | None, now: datetime, limit: int) -> list[OutboundEmail]:
    """Claim and load in one statement (PostgreSQL): the rows are picked with FOR UPDATE
    SKIP LOCKED, so concurrent batches take different rows without waiting."""
    queued = OutboundEmail.Status.QUEUED
    own, others = email_id is not None, limit > 1 or email_id is None
    params = [queued, email_id, now + OWN_ROW_EARLY] if own else []
    if others:
        params += [queued, now, *([email_id] if own else []), limit - 1 if own else limit]
    sql = _claim_sql(own=own, others=others)
    rows = list(OutboundEmail.objects.raw(sql, [*params, OutboundEmail.Status.SENDING, now]))
    # The task's own row first, then by due time.
    return sorted(rows, key=lambda email: (email.pk != email_id, email.next_attempt_at,
                                           email.pk))


def _send_claimed(email: OutboundEmail) -> TemporaryDeliveryError | None:
    """Send a claimed row and record the outcome; the error when it was put back in
    the queue with a back-off."""
    email_render_stored(email)
    try:
        message = _message(email)
        message.connection = mail_connection()
        message.send()
    except Exception as exc:  # whatever went wrong, the row must leave `sending`
        mail_connection_close()  # in an unknown state now
        permanent, error = describe_failure(exc)
        return _record_failure(email, error, permanent=permanent)
    _open.last_used = time.monotonic()
    _mark_sent(email.pk)
    return None


# How long a worker keeps trying to record that an accepted message was sent while the
# database is unreachable (a restart, a fail-over): the row would otherwise stay
# `sending` and be sent again by the re-queue job. Below the tasks' soft time limit.
MARK_SENT_PATIENCE = 15.0


def _mark_sent(email_id: int) -> None:
    """Record that the server accepted the message. A failure to reach the database is
    tried again on a new connection for up to MARK_SENT_PATIENCE seconds, since the
    message is out whatever happens to the row."""
    deadline = time.monotonic() + MARK_SENT_PATIENCE
    pause = 0.5
    while True:
        try:
            _record_sent(email_id)
            return
        except (OperationalError, InterfaceError) as exc:
            if time.monotonic() + pause > deadline:
                raise
            log.warning("Email %s was sent but could not be marked sent (%s); trying again",
                        email_id, exc)
            if not connection.in_atomic_block:
                connection.close()  # the next query opens a new one
            time.sleep(pause)
            pause = min(pause * 2, 4.0)


@functools.cache
def _record_sent_sql() -> str:
    """Written once per process (the ORM took longer to build this UPDATE than the
    database to run it, for each email)."""
    meta, quote = OutboundEmail._meta, connection.ops.quote_name
    column = {name: quote(meta.get_field(name).column)
              for name in ("id", "status", "sent_at", "last_error", "sealed_secrets")}
    return (f"UPDATE {quote(meta.db_table)} SET {column['status']} = %s, "
            f"{column['sent_at']} = %s, {column['last_error']} = '', "
            f"{column['sealed_secrets']} = '' WHERE {column['id']} = %s")


def _record_sent(email_id: int) -> None:
    sent_at = OutboundEmail._meta.get_field("sent_at").get_db_prep_value(
        timezone.now(), connection)
    with connection.cursor() as cursor:
        cursor.execute(_record_sent_sql(), [OutboundEmail.Status.SENT, sent_at, email_id])


class _OpenConnection:
    """This process's connection to the mail server, shared by consecutive deliveries:
    opening one (TCP, EHLO, TLS, login) costs more than sending a message."""

    backend = None
    settings_key = None
    last_used = 0.0


_open = _OpenConnection()


def mail_connection():
    """The open connection to the configured email backend, opened on first use and
    again after a failure, an idle spell (MAIL_CONNECTION_MAX_IDLE) or a change of the
    email settings."""
    key = (settings.EMAIL_BACKEND, settings.EMAIL_HOST, settings.EMAIL_PORT,
           settings.EMAIL_HOST_USER)
    if _open.backend is not None and (
        _open.settings_key != key
        or time.monotonic() - _open.last_used > MAIL_CONNECTION_MAX_IDLE
    ):
        mail_connection_close()
    if _open.backend is None:
        backend = get_connection()
        backend.open()  # kept open: send_messages() closes only what it opened itself
        _open.backend, _open.settings_key = backend, key
        _open.last_used = time.monotonic()
    return _open.backend


def mail_connection_close() -> None:
    backend, _open.backend = _open.backend, None
    if backend is not None:
        try:
            backend.close()
        except Exception:  # a broken connection may fail to say goodbye; it is dropped
            log.debug("Closing the mail connection failed", exc_info=True)


def sender_address(language: str) -> str:
    """DEFAULT_FROM_EMAIL with its display name in the recipient's `language`: the
    default name is a msgid ("Customer portal" reads «Portal de clientes» in Spanish); a
    name set in the environment that the catalogue does not know goes out as written."""
    return _sender_address(language, settings.DEFAULT_FROM_EMAIL)


@functools.lru_cache(maxsize=64)
def _sender_address(language: str, default_from: str) -> str:
    """Worked out once per language and setting in a process (every email needs it)."""
    name, address = parseaddr(default_from)
    if not name or not address:
        return default_from
    with translation.override(language):
        return formataddr((gettext(name), address))


def _message(email: OutboundEmail) -> OutboxMessage:
    """The message as it goes out: the stored bodies, with the secrets put back in
    place of their markers (in memory only)."""
    text, html = email.body_text, email.body_html
    if email.sealed_secrets:
        text = secrets_fill(text, email.sealed_secrets, html=False)
        html = secrets_fill(html, email.sealed_secrets, html=True)
    message = OutboxMessage(
        subject=email.subject,
        body=text,
        from_email=sender_address(email.language),
        to=[email.to_address],
        headers={"Message-ID": email.message_id},
    )
    if html:
        message.attach_alternative(html, "text/html")
    return message


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def describe_failure(exc: Exception) -> tuple[bool, str]:
    """(permanent, description) of an exception raised while sending. Only a 5xx about
    the recipient (RCPT) or the message itself (DATA) is permanent: a 5xx about our login
    or sender address is a configuration problem that staff can fix before the last
    attempt, and everything else (refused connection, timeout, 4xx) is temporary."""
    if isinstance(exc, UnreadableSecrets):
        return True, "The code or link of this email can no longer be opened (SECRET_KEY changed)."
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refusals = [(address, code, _text(reply)) for address, (code, reply)
                    in exc.recipients.items()]
        permanent = bool(refusals) and all(500 <= code < 600 for _a, code, _r in refusals)
        detail = "; ".join(f"{address}: {code} {reply}" for address, code, reply in refusals)
        return permanent, f"Recipient refused: {detail}"
    if isinstance(exc, smtplib.SMTPDataError):
        return (500 <= exc.smtp_code < 600,
                f"Message refused: {exc.smtp_code} {_text(exc.smtp_error)}")
    if isinstance(exc, smtplib.SMTPResponseException):
        return False, f"{type(exc).__name__}: {exc.smtp_code} {_text(exc.smtp_error)}"
    return False, f"{type(exc).__name__}: {exc}"


def _record_failure(email: OutboundEmail, error: str, *,
                    permanent: bool) -> TemporaryDeliveryError | None:
    if permanent or email.attempts >= MAX_ATTEMPTS:
        OutboundEmail.objects.filter(pk=email.pk).update(
            status=OutboundEmail.Status.FAILED, last_error=error, sealed_secrets=""
        )
        log.error("Email %s failed for good after %s attempt(s): %s",
                  email.pk, email.attempts, error)
        return None
    delay = retry_delay(email.attempts)
    OutboundEmail.objects.filter(pk=email.pk).update(
        status=OutboundEmail.Status.QUEUED, last_error=error,
        next_attempt_at=timezone.now() + delay,
    )
    log.warning("Email %s not sent (attempt %s), next try in %s: %s",
                email.pk, email.attempts, delay, error)
    return TemporaryDeliveryError(error, retry_in=delay)


def email_requeue_stale(*, now: datetime | None = None) -> int:
    """Hand back to the workers what the broker lost.

    1. Rows `sending` for longer than SENDING_TIMEOUT lost their worker (killed, or past
       its hard time limit). Those on their last attempt fail, so that an email that
       kills its worker cannot loop for ever; the others go back to the queue, due now.
    2. Queued rows overdue by STALE_AFTER never reached a worker. Each is claimed by
       moving its due time to `now` with a conditional update, so two concurrent runs
       enqueue it once, then handed to the broker. At most REQUEUE_BATCH per run; the
       run stops at the first row the broker does not take (it is down: the rest would
       only wait for their timeouts), and that row is due again in STALE_AFTER.
    Returns how many rows were handed to the broker."""
    now = now or timezone.now()
    abandoned = OutboundEmail.objects.filter(
        status=OutboundEmail.Status.SENDING, claimed_at__lt=now - SENDING_TIMEOUT
    )
    abandoned.filter(attempts__gte=MAX_ATTEMPTS).update(
        status=OutboundEmail.Status.FAILED, last_error=WORKER_LOST, sealed_secrets=""
    )
    abandoned.update(
        status=OutboundEmail.Status.QUEUED, next_attempt_at=F("claimed_at"),
        last_error=WORKER_LOST,
    )
    due = list(
        OutboundEmail.objects.filter(
            status=OutboundEmail.Status.QUEUED, next_attempt_at__lt=now - STALE_AFTER
        ).order_by("next_attempt_at").values_list("pk", "next_attempt_at")[:REQUEUE_BATCH]
    )
    requeued = 0
    for pk, due_at in due:
        if OutboundEmail.objects.filter(
            pk=pk, status=OutboundEmail.Status.QUEUED, next_attempt_at=due_at
        ).update(next_attempt_at=now):
            if not task_send(DELIVER_TASK, pk):
                break
            requeued += 1
    if requeued:
        log.info("Re-queued %s email(s) the broker had lost", requeued)
    return requeued
