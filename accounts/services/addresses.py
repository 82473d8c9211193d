"""Addresses stored before the normal form (manage.py normalise_addresses)."""

import logging

from accounts.models import (
    User,
)
from portal.text import normalise_email

log = logging.getLogger(__name__)

def addresses_normalise(*, apply=False):
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
            if field == "email" and User.objects.filter(email__lower=normal).exclude(pk=user.pk).exists():
                yield user, field, stored, normal, "clash"
                continue
            if apply:
                User.objects.filter(pk=user.pk).update(**{field: normal})
            yield user, field, stored, normal, "rewritten" if apply else "to rewrite"
