"""After a successful login."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from accounts.models import (
    SecurityEvent,
)
from accounts.security import security_log
from notifications.services import email_is_wanted, email_queue
from portal.requestinfo import browser_and_system, client_ip, user_agent

if TYPE_CHECKING:
    from django.http import HttpRequest

    from accounts.models import User
    from notifications.models import OutboundEmail

log = logging.getLogger(__name__)

def login_notify(*, user: User, request: HttpRequest | None) -> OutboundEmail | None:
    """After a successful login: a line in the security log, always, and in the same
    transaction the login notification (NIC handle, time, IP address, browser and
    system), unless the customer switched it off in the profile."""
    now = timezone.now()
    with transaction.atomic():
        security_log(user=user, action=SecurityEvent.Action.LOGIN, request=request)
        if not email_is_wanted(user=user, kind="login_notification"):
            return None
        browser, system = browser_and_system(user_agent(request))
        return email_queue(
            template="login_notification",
            to=user.email,
            user=user,
            context={"when": now, "ip_address": client_ip(request) or "",
                     "browser": browser, "system": system},
        )
