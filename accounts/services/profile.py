""""My account": saving the edited profile."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.db import transaction

from accounts.models import (
    SecurityEvent,
)
from accounts.security import security_log

if TYPE_CHECKING:
    from django.http import HttpRequest

    from accounts.models import User

log = logging.getLogger(__name__)

def profile_update(
        *, user: User, changes: dict, request: HttpRequest | None = None) -> list[str]:
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
