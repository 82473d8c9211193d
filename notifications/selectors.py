"""What the customer's email history shows."""

from dataclasses import dataclass
from datetime import datetime

from django.core.paginator import Page

from notifications.models import OutboundEmail, Recipient
from notifications.rendering import email_show, email_subject
from portal.db import ReusableQuery, page_of

EMAILS_PER_PAGE = 25


@dataclass(frozen=True)
class EmailRow:
    """An email as the history lists it: plain values (cheap to read and to key a cached
    fragment with)."""
    pk: int
    created_at: datetime
    subject: str
    status: str

    def get_status_display(self) -> str:
        return OutboundEmail.Status(self.status).label


_EMAILS = ReusableQuery(lambda user_id: (
    OutboundEmail.objects.filter(user_id=user_id).order_by("-created_at", "-pk")
    .values_list("pk", "created_at", "subject", "status", "rendered_at")))


def email_history(*, user: Recipient, page: int | str | None) -> Page:
    """One page of the emails sent to `user` (EmailRow), newest first. A row queued in
    bulk that no worker has rendered yet gets its subject rendered for display (never
    saved): one more query then, for those rows only."""
    shown = page_of(_EMAILS.bind(user_id=user.pk), page, EMAILS_PER_PAGE)
    subjects = {}
    unrendered = [row[0] for row in shown.object_list if row[4] is None]
    if unrendered:
        for email in OutboundEmail.objects.filter(pk__in=unrendered).only(
                "pk", "kind", "language", "context", "subject", "rendered_at", "user_id"):
            email.user = user  # the owner is known: no query per row
            subjects[email.pk] = email_subject(email)
    shown.object_list = [EmailRow(pk, created_at, subjects.get(pk, subject), status)
                         for pk, created_at, subject, status, _rendered_at in shown.object_list]
    return shown


def email_of(*, user: Recipient, email_id: int) -> OutboundEmail | None:
    """The email `email_id` if it was sent to `user`, with its parts rendered for display
    (secrets still masked by shown_text and shown_html); None for anyone else's."""
    email = OutboundEmail.objects.filter(pk=email_id, user=user).first()
    if email is None:
        return None
    email.user = user
    return email_show(email)
