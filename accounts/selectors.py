"""Reads that the accounts pages show, ready for their templates (no query left to run
in a template)."""

from __future__ import annotations

from django.core.paginator import Page, Paginator

from accounts.models import EmailChangeRequest, User

SECURITY_EVENTS_PER_PAGE = 20


def email_change_pending(*, user: User) -> EmailChangeRequest | None:
    """The customer's pending email change, if any (at most one: a database rule)."""
    return EmailChangeRequest.objects.filter(user=user,
                                             state=EmailChangeRequest.State.TODO).first()


def security_events(*, user: User, page: str | int | None) -> Page:
    """One page of the customer's security log, newest first, with who did each."""
    events = user.security_events.select_related("actor")
    result = Paginator(events, SECURITY_EVENTS_PER_PAGE).get_page(page)
    result.object_list = list(result.object_list)
    return result
