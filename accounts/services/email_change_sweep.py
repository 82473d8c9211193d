"""The 24-hour rule and the 7-day clean-up, for beat and
`manage.py apply_due_email_changes`: set-based, claimed, safe to run twice at once."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.models import (
    EmailChangeRequest,
    User,
)
from accounts.services.email_change_outcomes import (
    email_change_apply_or_abort,
    email_change_close,
    email_changes_apply_set,
)

if TYPE_CHECKING:
    from datetime import datetime

log = logging.getLogger(__name__)

EMAIL_CHANGE_UNCONFIRMED_LIMIT = timedelta(days=7)
EMAIL_CHANGE_BATCH = 1000
NO_REFUSAL = EmailChangeRequest.Reason.NO_REFUSAL

def email_changes_apply_due(
        *, now: datetime | None = None, batch_size: int = EMAIL_CHANGE_BATCH,
        max_batches: int | None = None) -> int:
    """The 24-hour rule, for beat and `manage.py apply_due_email_changes`.

    1. In one transaction, lock a bounded batch of due requests (pending, due, new address
       confirmed), skipping rows that a concurrent run holds: two runs never apply one
       request twice.
    2. Apply the batch with a few set-based statements (_email_changes_apply_batch); a
       request that cannot apply (its new address is taken) is aborted on its own.
    3. Repeat until nothing is due; memory stays bounded by the batch size.
    Returns the number of requests applied."""
    now = now or timezone.now()
    applied = batches = 0
    while max_batches is None or batches < max_batches:
        with transaction.atomic():
            due = list(
                EmailChangeRequest.objects.select_for_update(skip_locked=True)
                .filter(state=EmailChangeRequest.State.TODO, due_at__lte=now,
                        new_email_confirmed_at__isnull=False)
                .order_by("due_at")
                .values_list("pk", "user_id", "new_email")[:batch_size]
            )
            if not due:
                break
            applied += _email_changes_apply_batch(due, now=now)
        batches += 1
    return applied


def _email_changes_apply_batch(due, *, now):
    """Apply locked requests [(id, user_id, new_email)] inside the caller's transaction.

    1. Set aside the requests whose new address is any account's address already, or is
       wanted twice in the batch: they go one by one (and are aborted with a notice).
    2. For the rest, in one statement each: mark the requests done, copy the new address
       (and its confirmation time) onto the accounts, write the security log lines, and
       queue the notices to the old and new addresses (rendered by the worker).
    If the database still refuses (an address taken this very moment), fall back to one
    by one for the whole batch."""
    wanted = {}
    set_aside = []
    taken = set(User.objects.annotate(lower_email=Lower("email"))
                .filter(lower_email__in=[new.lower() for _pk, _user, new in due])
                .values_list("lower_email", flat=True))
    for pk, user_id, new_email in due:
        key = new_email.lower()
        if key in taken or key in wanted:
            set_aside.append(pk)
        else:
            wanted[key] = (pk, user_id)
    ids = [pk for pk, _user_id in wanted.values()]
    applied = 0
    if ids:
        try:
            with transaction.atomic():
                applied = email_changes_apply_set(ids, now=now, how=NO_REFUSAL)
        except IntegrityError:
            set_aside += ids
    for change in EmailChangeRequest.objects.select_related("user").filter(pk__in=set_aside):
        if email_change_apply_or_abort(change, now=now, how=NO_REFUSAL):
            applied += 1
    return applied


def email_changes_abort_unconfirmed(
        *, now: datetime | None = None, batch_size: int = EMAIL_CHANGE_BATCH) -> int:
    """Requests whose new address was never confirmed are aborted after 7 days, and the
    customer is told. Returns the number aborted."""
    now = now or timezone.now()
    aborted = 0
    while True:
        with transaction.atomic():
            stale = list(
                EmailChangeRequest.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("user")
                .filter(state=EmailChangeRequest.State.TODO, new_email_confirmed_at__isnull=True,
                        created_at__lte=now - EMAIL_CHANGE_UNCONFIRMED_LIMIT)
                .order_by("created_at")[:batch_size]
            )
            if not stale:
                return aborted
            for change in stale:
                email_change_close(change, state=EmailChangeRequest.State.ABORTED, now=now,
                                    reason=EmailChangeRequest.Reason.UNCONFIRMED, notify=True)
                aborted += 1
