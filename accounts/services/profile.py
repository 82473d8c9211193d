""""My account": saving the edited profile."""

import logging

from django.db import transaction

from accounts.models import (
    SecurityEvent,
)
from accounts.security import security_log

log = logging.getLogger(__name__)

def profile_update(*, user, changes, request=None):
    """Save the edited profile fields and log which ones changed (names, not values)."""
    changed = sorted(name for name, value in changes.items() if getattr(user, name) != value)
    if not changed:
        return []
    with transaction.atomic():
        for name in changed:
            setattr(user, name, changes[name])
        user.save(update_fields=changed)
        security_log(user=user, action=SecurityEvent.Action.PROFILE_CHANGED, request=request,
                     fields=changed)
    return changed
