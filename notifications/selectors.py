"""What the customer's email history shows."""

from django.core.paginator import Page

from notifications.models import OutboundEmail, Recipient
from notifications.rendering import email_show, email_subject
from portal.db import page_of

EMAILS_PER_PAGE = 25


def email_history(*, user: Recipient, page: int | str | None) -> Page:
    """One page of the emails sent to `user`, newest first. A row queued in bulk that no
    worker has rendered yet gets its subject rendered for display (never saved)."""
    emails = (
        OutboundEmail.objects.filter(user=user)
        .only("pk", "created_at", "subject", "status", "kind", "language", "context",
              "rendered_at", "user_id")
        .order_by("-created_at", "-pk")
    )
    shown = page_of(emails, page, EMAILS_PER_PAGE)
    for email in shown.object_list:
        if not email.is_rendered:
            email.user = user  # the owner is known: no query per row
            email.subject = email_subject(email)
    return shown


def email_of(*, user: Recipient, email_id: int) -> OutboundEmail | None:
    """The email `email_id` if it was sent to `user`, with its parts rendered for display
    (secrets still masked by shown_text and shown_html); None for anyone else's."""
    email = OutboundEmail.objects.filter(pk=email_id, user=user).first()
    if email is None:
        return None
    email.user = user
    return email_show(email)
