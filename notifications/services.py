"""The outbox: queue an email with its cause, deliver it once, re-queue what got stuck."""

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

from notifications.models import OutboundEmail
from portal.db import insert_from_select

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
STALE_AFTER = timedelta(minutes=5)
SENDING_TIMEOUT = timedelta(minutes=15)
REQUEUE_BATCH = 500


class TemporaryDeliveryError(Exception):
    """SMTP said "try later" (or could not be reached); the row stays queued."""

    def __init__(self, message, *, retry_in):
        super().__init__(message)
        self.retry_in = retry_in


def retry_delay(attempts):
    """Exponential back-off: 30 s, 60 s, 120 s, ... capped at one hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def email_render(*, template, context, language):
    """Subject, text and HTML of `emails/<template>.*`, rendered in `language`."""
    with translation.override(language):
        subject = render_to_string(f"emails/{template}.subject.txt", context)
        text = render_to_string(f"emails/{template}.txt", context)
        html = render_to_string(f"emails/{template}.html", context)
    return " ".join(subject.split()), text, html


def email_queue(*, template, to, user=None, context=None, language=None):
    """Write an outbox row now and hand it to a worker once the transaction commits."""
    language = language or (user.language if user else settings.LANGUAGE_CODE)
    context = {
        "user": user,
        "nic_handle": user.nic_handle if user else "",
        "base_url": settings.PORTAL_BASE_URL,
        **(context or {}),
    }
    subject, text, html = email_render(template=template, context=context, language=language)
    email = OutboundEmail.objects.create(
        user=user, kind=template, to_address=to, language=language,
        subject=subject, body_text=text, body_html=html,
    )
    transaction.on_commit(lambda: _enqueue(email.pk))
    return email


def _enqueue(email_id):
    from notifications.tasks import deliver_email_task

    try:
        deliver_email_task.delay(email_id)
    except Exception:
        # The broker is unreachable. The row is committed and queued; the re-queue beat
        # job will hand it to a worker later. The customer's request must not fail.
        log.warning("Could not enqueue email %s; the re-queue job will pick it up", email_id,
                    exc_info=True)


def email_deliver(*, email_id):
    """1. Claim the row (queued -> sending); stop if someone else has it or it is done.
    2. Send it over the configured backend.
    3. Mark it sent, or put it back in the queue with the error, or mark it failed."""
    now = timezone.now()
    claimed = OutboundEmail.objects.filter(
        pk=email_id, status=OutboundEmail.Status.QUEUED
    ).update(status=OutboundEmail.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return False
    email = OutboundEmail.objects.select_related("user").get(pk=email_id)
    email_render_stored(email)
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.body_text,
        to=[email.to_address],
        headers={"Message-ID": email.message_id},
    )
    if email.body_html:
        message.attach_alternative(email.body_html, "text/html")
    try:
        message.send()
    except smtplib.SMTPResponseException as exc:
        permanent = 500 <= exc.smtp_code < 600
        _record_failure(email, f"{exc.smtp_code} {exc.smtp_error!r}", permanent=permanent)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _msg in exc.recipients.values()]
        permanent = all(500 <= code < 600 for code in codes)
        _record_failure(email, f"recipients refused: {exc.recipients!r}", permanent=permanent)
    except (smtplib.SMTPException, OSError) as exc:
        _record_failure(email, f"{type(exc).__name__}: {exc}", permanent=False)
    else:
        OutboundEmail.objects.filter(pk=email.pk).update(
            status=OutboundEmail.Status.SENT, sent_at=timezone.now(), last_error=""
        )
    return True


def _record_failure(email, error, *, permanent):
    if permanent or email.attempts >= MAX_ATTEMPTS:
        OutboundEmail.objects.filter(pk=email.pk).update(
            status=OutboundEmail.Status.FAILED, last_error=error
        )
        log.error("Email %s failed for good: %s", email.pk, error)
        return
    delay = retry_delay(email.attempts)
    OutboundEmail.objects.filter(pk=email.pk).update(
        status=OutboundEmail.Status.QUEUED, last_error=error,
        next_attempt_at=timezone.now() + delay,
    )
    raise TemporaryDeliveryError(error, retry_in=delay)


def email_requeue_stale(*, now=None):
    """Hand back to the workers what the broker lost: queued rows whose attempt is long
    overdue (the broker was down at commit) and rows stuck in `sending` (a worker died).
    Each row is claimed with a conditional update, so concurrent runs enqueue it once."""
    now = now or timezone.now()
    OutboundEmail.objects.filter(
        status=OutboundEmail.Status.SENDING, claimed_at__lt=now - SENDING_TIMEOUT
    ).update(status=OutboundEmail.Status.QUEUED, next_attempt_at=F("claimed_at"))
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
            _enqueue(pk)
            requeued += 1
    return requeued


BULK_TASK_SIZE = 500


def email_queue_select(*, template, source, user, to, language, context):
    """Queue one email per row of the queryset `source` with a single INSERT ... SELECT.

    `user`, `to` and `language` are expressions over the source rows (F("user_id")...),
    `context` a dict of them, stored as JSON: the worker renders each row when it
    delivers it (email_render_stored). One task message goes out per BULK_TASK_SIZE rows
    once the transaction commits. Returns the new rows' ids."""
    now = timezone.now()
    stamp = Value(now, output_field=DateTimeField())
    written = insert_from_select(OutboundEmail, {
        "user_id": user, "kind": Value(template), "to_address": to, "language": language,
        "subject": Value(""), "body_text": Value(""), "body_html": Value(""),
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
