"""The outbox: queue an email with its cause, deliver it once, re-queue what got stuck.

What "once" means here. A worker claims a row (queued -> sending) with a conditional
UPDATE before it talks to SMTP, so two workers never send the same row and a duplicate
task message finds nothing to do. SMTP itself leaves one gap no client can close: when
the server has accepted the message but the worker dies (or the database is unreachable)
before the row is marked sent, the row stays `sending`. The re-queue job hands it back
after SENDING_TIMEOUT and it goes out again, with the same Message-ID so that receiving
servers and mail clients can fold the copy. That is a deliberate choice of at-least-once
over at-most-once: a lost security notice is worse than a rare duplicate.
"""

import datetime
import logging
import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import DateTimeField, F, Value
from django.db.models.functions import JSONObject
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from notifications.kinds import email_kind
from notifications.models import OutboundEmail
from notifications.secrets import UnreadableSecrets, secrets_fill, secrets_seal
from portal.db import insert_from_select

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
MAX_RETRY_DELAY = timedelta(hours=1)
# A queued row this long overdue never reached a worker (broker down at commit, or the
# task message was lost).
STALE_AFTER = timedelta(minutes=5)
# Well past the task's hard time limit (CELERY_TASK_TIME_LIMIT, 90 s): a row `sending`
# for longer has no live worker behind it.
SENDING_TIMEOUT = timedelta(minutes=5)
REQUEUE_BATCH = 500

WORKER_LOST = "The worker delivering this email stopped before recording the outcome."


class TemporaryDeliveryError(Exception):
    """SMTP said "try later" (or could not be reached); the row stays queued."""

    def __init__(self, message, *, retry_in):
        super().__init__(message)
        self.retry_in = retry_in


def retry_delay(attempts):
    """Exponential back-off after `attempts` failed tries: the base delay
    (EMAIL_RETRY_BASE_DELAY, 30 s), then twice as long each time, at most an hour."""
    seconds = settings.EMAIL_RETRY_BASE_DELAY * 2 ** max(attempts - 1, 0)
    return min(timedelta(seconds=seconds), MAX_RETRY_DELAY)


def email_is_wanted(*, user, kind):
    """False only when the customer switched this kind of email off."""
    switch = email_kind(kind).switch
    return user is None or not switch or bool(getattr(user, switch))


def email_render(*, template, context, language):
    """Subject, text and HTML of `emails/<template>.*`, rendered in `language`, with
    times in UTC. The subject and the text part come from the "text" template engine,
    which does not HTML-escape: a name with "<" or "&" reads as typed."""
    with translation.override(language), timezone.override(datetime.timezone.utc):
        subject = render_to_string(f"emails/{template}.subject.txt", context, using="text")
        text = render_to_string(f"emails/{template}.txt", context, using="text")
        html = render_to_string(f"emails/{template}.html", context)
    return " ".join(subject.split()), text, html


def email_queue(*, template, to, user=None, context=None, secrets=None, language=None):
    """Write an outbox row now and hand it to a worker once the transaction commits.

    `secrets` are the values of the kind's declared secrets (codes, links that grant
    access): they are sealed in the row and the bodies carry markers in their place,
    which only the worker fills, at send time (notifications.secrets). Returns the row,
    or None (writing nothing) when the customer switched this kind of email off."""
    kind = email_kind(template)
    secrets = secrets or {}
    if set(secrets) != kind.secrets or kind.secrets & set(context or {}):
        raise ValueError(f"Email kind {template} takes exactly the secrets "
                         f"{sorted(kind.secrets)}, passed as secrets=, got {sorted(secrets)}")
    if not email_is_wanted(user=user, kind=template):
        return None
    language = language or (user.language if user else settings.LANGUAGE_CODE)
    sealed, markers = secrets_seal(secrets) if secrets else ("", {})
    context = {
        "user": user,
        "nic_handle": user.nic_handle if user else "",
        "base_url": settings.PORTAL_BASE_URL,
        **(context or {}),
        **markers,
    }
    subject, text, html = email_render(template=template, context=context, language=language)
    email = OutboundEmail.objects.create(
        user=user, kind=template, to_address=to, language=language,
        subject=subject, body_text=text, body_html=html, sealed_secrets=sealed,
    )
    transaction.on_commit(lambda: _enqueue(email.pk))
    return email


def _enqueue(email_id):
    """Hand the row to a worker; False when the broker could not be reached."""
    from notifications.tasks import deliver_email_task

    try:
        deliver_email_task.delay(email_id)
    except Exception as exc:
        # The broker is unreachable. The row is committed and queued; the re-queue beat
        # job will hand it to a worker later. The customer's request must not fail.
        log.warning("Could not enqueue email %s (%s: %s); the re-queue job will pick it up",
                    email_id, type(exc).__name__, exc)
        return False
    return True


def email_deliver(*, email_id):
    """1. Claim the row (queued -> sending, one more attempt); stop if another worker has
       it or it is already done.
    2. Send it over the configured backend, with its stable Message-ID.
    3. Mark it sent; or record the error and either fail it for good (the server refused
       this recipient or this message with a 5xx, or this was the last attempt) or put
       it back in the queue with a back-off, raising TemporaryDeliveryError so that the
       task retries then."""
    claimed = OutboundEmail.objects.filter(
        pk=email_id, status=OutboundEmail.Status.QUEUED
    ).update(status=OutboundEmail.Status.SENDING, claimed_at=timezone.now(),
             attempts=F("attempts") + 1)
    if not claimed:
        return False
    email = OutboundEmail.objects.select_related("user").get(pk=email_id)
    email_render_stored(email)
    try:
        message = _message(email)
        message.send()
    except Exception as exc:  # whatever went wrong, the row must leave `sending`
        permanent, error = describe_failure(exc)
        _record_failure(email, error, permanent=permanent)
    else:
        OutboundEmail.objects.filter(pk=email.pk).update(
            status=OutboundEmail.Status.SENT, sent_at=timezone.now(), last_error="",
            sealed_secrets="",
        )
    return True


def _message(email):
    """The message as it goes out: the stored bodies, with the secrets put back in
    place of their markers (in memory only)."""
    text, html = email.body_text, email.body_html
    if email.sealed_secrets:
        text = secrets_fill(text, email.sealed_secrets, html=False)
        html = secrets_fill(html, email.sealed_secrets, html=True)
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=text,
        to=[email.to_address],
        headers={"Message-ID": email.message_id},
    )
    if html:
        message.attach_alternative(html, "text/html")
    return message


def _text(value):
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def describe_failure(exc):
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


def _record_failure(email, error, *, permanent):
    if permanent or email.attempts >= MAX_ATTEMPTS:
        OutboundEmail.objects.filter(pk=email.pk).update(
            status=OutboundEmail.Status.FAILED, last_error=error, sealed_secrets=""
        )
        log.error("Email %s failed for good after %s attempt(s): %s",
                  email.pk, email.attempts, error)
        return
    delay = retry_delay(email.attempts)
    OutboundEmail.objects.filter(pk=email.pk).update(
        status=OutboundEmail.Status.QUEUED, last_error=error,
        next_attempt_at=timezone.now() + delay,
    )
    log.warning("Email %s not sent (attempt %s), next try in %s: %s",
                email.pk, email.attempts, delay, error)
    raise TemporaryDeliveryError(error, retry_in=delay)


def email_requeue_stale(*, now=None):
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
            if not _enqueue(pk):
                break
            requeued += 1
    if requeued:
        log.info("Re-queued %s email(s) the broker had lost", requeued)
    return requeued


BULK_TASK_SIZE = 500


def email_queue_select(*, template, source, user, to, language, context):
    """Queue one email per row of the queryset `source` with a single INSERT ... SELECT.

    `user`, `to` and `language` are expressions over the source rows (F("user_id")...),
    `context` a dict of them, stored as JSON: the worker renders each row when it
    delivers it (email_render_stored). One task message goes out per BULK_TASK_SIZE rows
    once the transaction commits. Returns the new rows' ids. Kinds that carry secrets
    cannot be queued this way."""
    if email_kind(template).secrets:
        raise ValueError(f"Email kind {template} carries secrets: queue it with email_queue")
    now = timezone.now()
    stamp = Value(now, output_field=DateTimeField())
    written = insert_from_select(OutboundEmail, {
        "user_id": user, "kind": Value(template), "to_address": to, "language": language,
        "subject": Value(""), "body_text": Value(""), "body_html": Value(""),
        "sealed_secrets": Value(""),
        "context": JSONObject(**context), "status": Value(OutboundEmail.Status.QUEUED),
        "attempts": Value(0), "last_error": Value(""), "created_at": stamp,
        "next_attempt_at": stamp,
    }, source)
    ids = list(OutboundEmail.objects.filter(kind=template, created_at=now, subject="")
               .order_by("pk").values_list("pk", flat=True))
    if len(ids) < written:
        log.warning("Queued %d %s emails but found %d", written, template, len(ids))
    for start in range(0, len(ids), BULK_TASK_SIZE):
        chunk = ids[start:start + BULK_TASK_SIZE]
        transaction.on_commit(lambda chunk=chunk: _enqueue_many(chunk))
    return ids


def _enqueue_many(email_ids):
    from notifications.tasks import deliver_emails_task

    try:
        deliver_emails_task.delay(email_ids)
    except Exception:
        log.warning("Could not enqueue %d emails; the re-queue job will pick them up",
                    len(email_ids), exc_info=True)


def email_render_stored(email):
    """Render a row queued in bulk, once, in its language, and keep the result."""
    if email.is_rendered:
        return email
    user = email.user
    context = {"user": user, "nic_handle": user.nic_handle if user else "",
               "base_url": settings.PORTAL_BASE_URL, **email.context}
    email.subject, email.body_text, email.body_html = email_render(
        template=email.kind, context=context, language=email.language)
    OutboundEmail.objects.filter(pk=email.pk).update(
        subject=email.subject, body_text=email.body_text, body_html=email.body_html)
    return email


class ResendRefused(Exception):
    """This email cannot be sent again; the message says why, for the agent."""


def email_resend(*, email, staff_user, request=None):
    """Support sends an email again. A failed row goes back to the queue as it is; a sent
    one is copied into a new row (the history keeps both). Logged with the agent's name.
    An email that carried a code or a link is never sent again: its secret is gone, and
    a fresh one must come from the customer's own request (or a new reset link)."""
    from accounts.models import SecurityEvent
    from accounts.security import security_log

    if email.user is not None and not email.user.may_be_managed_by(staff_user):
        raise ResendRefused(_("Only a superuser may act on a staff account."))
    if email_kind(email.kind).secrets:
        raise ResendRefused(_("It carried a code or a link: the customer must ask for a "
                              "new one (or send a password reset link)."))
    email_render_stored(email)
    with transaction.atomic():
        if email.status == OutboundEmail.Status.FAILED:
            OutboundEmail.objects.filter(pk=email.pk, status=OutboundEmail.Status.FAILED).update(
                status=OutboundEmail.Status.QUEUED, attempts=0, next_attempt_at=timezone.now())
            row = email
        else:
            row = OutboundEmail.objects.create(
                user=email.user, kind=email.kind, to_address=email.to_address,
                language=email.language, subject=email.subject, body_text=email.body_text,
                body_html=email.body_html)
        if email.user is not None:
            security_log(user=email.user, action=SecurityEvent.Action.STAFF_ACTION,
                         request=request, actor=staff_user, what="email_resent",
                         email=email.pk, kind=email.kind)
        transaction.on_commit(lambda: _enqueue(row.pk))
    return row
