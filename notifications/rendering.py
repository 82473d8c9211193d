"""Emails rendered from their templates: `emails/<kind>.subject.txt`, `.txt`, `.html`."""

import datetime
from typing import Any, NamedTuple

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from notifications.models import OutboundEmail, Recipient


class EmailParts(NamedTuple):
    subject: str
    text: str
    html: str


def email_context(*, user: Recipient | None, values: dict[str, Any]) -> dict[str, Any]:
    """What every email template may use (the customer, their NIC handle, the site's
    address), then the email's own values."""
    return {
        "user": user,
        "nic_handle": user.nic_handle if user else "",
        "base_url": settings.PORTAL_BASE_URL,
        **values,
    }


def _render(template: str, suffix: str, context: dict[str, Any], *, text: bool) -> str:
    return render_to_string(f"emails/{template}{suffix}", context,
                            using="text" if text else None)


def email_render(*, template: str, context: dict[str, Any], language: str) -> EmailParts:
    """Subject, text and HTML of `emails/<template>.*`, rendered in `language`, with
    times in UTC. The subject and the text part come from the "text" template engine,
    which does not HTML-escape: a name with "<" or "&" reads as typed."""
    with translation.override(language), timezone.override(datetime.timezone.utc):
        subject = _render(template, ".subject.txt", context, text=True)
        text = _render(template, ".txt", context, text=True)
        subject = " ".join(subject.split())
        # The subject is the HTML part's <title> unless the template names another. Under
        # its own name: an email's own "subject" (a support request's) stays what it is.
        html = _render(template, ".html", {**context, "email_subject": subject}, text=False)
    return EmailParts(subject, text, html)


def email_subject(email: OutboundEmail) -> str:
    """The row's subject, rendered in memory (subject only) when the worker has not yet."""
    if email.is_rendered:
        return email.subject
    context = email_context(user=email.user, values=email.context)
    with translation.override(email.language), timezone.override(datetime.timezone.utc):
        return " ".join(_render(email.kind, ".subject.txt", context, text=True).split())


def email_parts(email: OutboundEmail) -> EmailParts:
    """Subject, text and HTML of a row as it goes (or went) out: the stored ones, or for a
    row queued in bulk that no worker has rendered yet, rendered now, in memory. Secrets
    stay markers either way. Writes nothing."""
    if email.is_rendered:
        return EmailParts(email.subject, email.body_text, email.body_html)
    return email_render(template=email.kind, language=email.language,
                        context=email_context(user=email.user, values=email.context))


def email_show(email: OutboundEmail) -> OutboundEmail:
    """The row with its rendered parts in place, for a page to show (shown_text,
    shown_html), never saved: only the worker stores a rendering (email_render_stored)."""
    email.subject, email.body_text, email.body_html = email_parts(email)
    return email


def email_render_stored(email: OutboundEmail) -> OutboundEmail:
    """In the worker: render a row queued in bulk, once, in its language, and keep the
    result with the moment it was rendered. A row already rendered is left as it is."""
    if email.is_rendered:
        return email
    email.subject, email.body_text, email.body_html = email_parts(email)
    email.rendered_at = timezone.now()
    OutboundEmail.objects.filter(pk=email.pk, rendered_at=None).update(
        subject=email.subject, body_text=email.body_text, body_html=email.body_html,
        rendered_at=email.rendered_at)
    return email
