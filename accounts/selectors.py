"""Reads that the accounts pages show, ready for their templates (no query left to run
in a template)."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet

from accounts.models import EmailChangeRequest, User
from portal.text import normalise_email

SECURITY_EVENTS_PER_PAGE = 20
# Two initials and six digits, the shape of every NIC handle (accounts.nic); the suffix
# may be left out.
NIC_HANDLE_SHAPE = re.compile(r"[a-z]{2}[0-9]{6}")


def customers_by_login(*, term: str) -> QuerySet[User] | None:
    """The customer a staff search names exactly, or None when the term is not shaped
    like a NIC handle or an email address (the caller then searches names).

    A NIC handle (with or without its suffix, any case) or a whole email address (the
    primary or the spare one) is looked up in normal form through the case-blind
    indexes: an index probe whatever the number of customers, where a substring search
    reads the whole table."""
    term = term.strip()
    if not term or any(char.isspace() for char in term):
        return None
    suffix = settings.NIC_SUFFIX.lower()
    handle = term.lower()
    if NIC_HANDLE_SHAPE.fullmatch(handle.removesuffix(suffix)):
        return User.objects.filter_by_login(handle.removesuffix(suffix) + suffix)
    local, _at, domain = term.rpartition("@")
    if local and "." in domain:  # a whole address; "@example.org" searches the text
        try:
            address = normalise_email(term)
        except ValidationError:
            return User.objects.none()
        return User.objects.filter(Q(email__lower=address) | Q(spare_email__lower=address))
    return None


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
