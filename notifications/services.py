"""The outbox's queue: an email is a row written in the transaction of its cause, and
handed to a worker once that transaction commits (delivery: notifications.delivery).

A broker that is down at commit loses nothing: the row is committed and queued, and the
re-queue beat job (notifications.delivery.email_requeue_stale) hands it over later."""

import logging
from typing import Any

from django.conf import settings
from django.db.models import DateTimeField, Expression, F, QuerySet, Value
from django.db.models.functions import JSONObject
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.delivery import DELIVER_MANY_TASK, DELIVER_TASK
from notifications.kinds import email_kind
from notifications.models import OutboundEmail, Recipient
from notifications.rendering import email_context, email_render
from notifications.secrets import secrets_seal
from portal.db import insert_from_select_pks
from portal.queueing import task_send_on_commit

log = logging.getLogger(__name__)

BULK_TASK_SIZE = 500


def email_is_wanted(*, user: Recipient | None, kind: str) -> bool:
    """False only when the customer switched this kind of email off."""
    switch = email_kind(kind).switch
    return user is None or not switch or bool(getattr(user, switch))


def email_queue(*, template: str, to: str, user: Recipient | None = None,
                context: dict[str, Any] | None = None,
                secrets: dict[str, str] | None = None,
                language: str | None = None) -> OutboundEmail | None:
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
    context = email_context(user=user, values={**(context or {}), **markers})
    subject, text, html = email_render(template=template, context=context, language=language)
    email = OutboundEmail.objects.create(
        user=user, kind=template, to_address=to, language=language,
        subject=subject, body_text=text, body_html=html, sealed_secrets=sealed,
        rendered_at=timezone.now(),
    )
    task_send_on_commit(DELIVER_TASK, email.pk)
    return email


def email_queue_select(*, template: str, source: QuerySet, user: Expression | F,
                       to: Expression | F, language: Expression | F,
                       context: dict[str, Expression | F]) -> list[int]:
    """Queue one email per row of the queryset `source` with a single INSERT ... SELECT.

    `user`, `to` and `language` are expressions over the source rows (F("user_id")...),
    `context` a dict of them, stored as JSON: the worker renders each row when it
    delivers it (notifications.rendering.email_render_stored); until then the history
    and the admin render it in memory. One task message goes out per BULK_TASK_SIZE rows
    once the transaction commits. Returns the new rows' ids, as the INSERT returned
    them. Kinds that carry secrets cannot be queued this way."""
    if email_kind(template).secrets:
        raise ValueError(f"Email kind {template} carries secrets: queue it with email_queue")
    stamp = Value(timezone.now(), output_field=DateTimeField())
    ids = insert_from_select_pks(OutboundEmail, {
        "user_id": user, "kind": Value(template), "to_address": to, "language": language,
        "subject": Value(""), "body_text": Value(""), "body_html": Value(""),
        "context": JSONObject(**context), "sealed_secrets": Value(""),
        "rendered_at": Value(None, output_field=DateTimeField()),
        "status": Value(OutboundEmail.Status.QUEUED), "attempts": Value(0),
        "last_error": Value(""), "created_at": stamp, "next_attempt_at": stamp,
    }, source)
    for start in range(0, len(ids), BULK_TASK_SIZE):
        task_send_on_commit(DELIVER_MANY_TASK, ids[start:start + BULK_TASK_SIZE])
    return ids


class ResendRefused(Exception):
    """This email cannot be sent again; the message says why, for the agent."""


def email_resend(*, email: OutboundEmail) -> OutboundEmail:
    """Send an email again. A failed row goes back to the queue as it is; any other is
    copied into a new row (the history keeps both). Returns the row that will go out.

    An email that carried a code or a link is never sent again: its secret is gone, and
    a fresh one must come from the customer's own request (or a new reset link). Who may
    ask for a resend, and the log line saying who did, are the caller's business."""
    if email_kind(email.kind).secrets:
        raise ResendRefused(_("It carried a code or a link: the customer must ask for a "
                              "new one (or send a password reset link)."))
    if email.status == OutboundEmail.Status.FAILED:
        OutboundEmail.objects.filter(pk=email.pk, status=OutboundEmail.Status.FAILED).update(
            status=OutboundEmail.Status.QUEUED, attempts=0, next_attempt_at=timezone.now())
        row = email
    else:
        row = OutboundEmail.objects.create(
            user=email.user, kind=email.kind, to_address=email.to_address,
            language=email.language, subject=email.subject, body_text=email.body_text,
            body_html=email.body_html, context=email.context, rendered_at=email.rendered_at)
    task_send_on_commit(DELIVER_TASK, row.pk)
    return row
