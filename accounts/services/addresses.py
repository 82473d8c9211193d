"""Addresses stored before the normal form (manage.py normalise_addresses)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from accounts.models import (
    User,
)
from portal.text import normalise_email

if TYPE_CHECKING:
    from collections.abc import Iterator

log = logging.getLogger(__name__)

def addresses_normalise(*, apply: bool = False) -> Iterator[tuple]:
    """Addresses stored before normalise_email existed, for `manage.py normalise_addresses`.

    Yields (user, field, stored, normal form or None, outcome) for each primary or spare
    address that is not in its normal form. With `apply`, an address whose normal form
    is free is rewritten (outcome "rewritten"); one whose normal form is another
    account's primary address ("clash") or that has invisible characters ("refused") is
    left for staff to review: either may be a look-alike made to take an account."""
    from django.core.exceptions import ValidationError

    for user in User.objects.only("pk", "nic_handle", "email", "spare_email").iterator():
        for field in ("email", "spare_email"):
            stored = getattr(user, field)
            if not stored:
                continue
            try:
                normal = normalise_email(stored)
            except ValidationError:
                yield user, field, stored, None, "refused"
                continue
            if normal == stored:
                continue
            if field == "email" and User.objects.email_in_use(normal, exclude=user):
                yield user, field, stored, normal, "clash"
                continue
            if apply:
                User.objects.filter(pk=user.pk).update(**{field: normal})
            yield user, field, stored, normal, "rewritten" if apply else "to rewrite"
