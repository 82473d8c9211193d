"""The 24-hour rule and the 7-day clean-up, for beat and
`manage.py apply_due_email_changes`: set-based, claimed, safe to run twice at once."""

import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, F, OuterRef, Subquery, Value
from django.db.models.functions import JSONObject, Lower
from django.utils import timezone

from accounts.models import (
    EmailChangeRequest,
    SecurityEvent,
    User,
)
from accounts.services.email_change import (
    email_change_apply_or_abort,
    email_change_close,
)
from notifications.services import email_queue_select
from portal.db import insert_from_select

log = logging.getLogger(__name__)

EMAIL_CHANGE_UNCONFIRMED_LIMIT = timedelta(days=7)
EMAIL_CHANGE_BATCH = 1000

def email_changes_apply_due(*, now=None, batch_size=EMAIL_CHANGE_BATCH, max_batches=None):
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


AUTO_APPLY_REASON = "24 hours without refusal"


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
                applied = _email_changes_apply_set(ids, now=now)
        except IntegrityError:
            set_aside += ids
    for change in EmailChangeRequest.objects.select_related("user").filter(pk__in=set_aside):
        if email_change_apply_or_abort(change, now=now, how=AUTO_APPLY_REASON):
            applied += 1
    return applied


def _email_changes_apply_set(ids, *, now):
    changes = EmailChangeRequest.objects.filter(pk__in=ids)
    requests_of_user = changes.filter(user_id=OuterRef("pk"))
    user_ids = changes.values("user_id")
    # The notices and log lines read the old address from the requests, so they are
    # written before the accounts change.
    insert_from_select(SecurityEvent, {
        "user_id": F("user_id"), "action": Value(SecurityEvent.Action.EMAIL_CHANGED),
        "user_agent": Value(""), "created_at": Value(now, output_field=DateTimeField()),
        "detail": JSONObject(old_email=F("old_email"), new_email=F("new_email"),
                             how=Value(AUTO_APPLY_REASON)),
    }, changes)
    for address in ("old_email", "new_email"):
        email_queue_select(template="email_changed", source=changes, user=F("user_id"),
                           to=F(address), language=F("user__language"),
                           context={"old_email": F("old_email"), "new_email": F("new_email")})
    User.objects.filter(pk__in=user_ids).update(
        email=Subquery(requests_of_user.values("new_email")[:1]),
        email_confirmed_at=Subquery(requests_of_user.values("new_email_confirmed_at")[:1]),
    )
    return changes.update(state=EmailChangeRequest.State.DONE, decided_at=now,
                          reason=AUTO_APPLY_REASON)


def email_changes_abort_unconfirmed(*, now=None, batch_size=EMAIL_CHANGE_BATCH):
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
                                    reason="the new address was never confirmed", notify=True)
                aborted += 1
