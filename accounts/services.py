"""Account workflows: creating a customer with a NIC handle, confirming the address,
recording a login."""

import logging

from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import IssuedNicHandle, SecurityEvent, User
from accounts.nic import nic_handle_candidate
from accounts.security import security_log
from notifications.services import email_is_wanted, email_queue
from portal.requestinfo import browser_and_system, client_ip, user_agent

log = logging.getLogger(__name__)

NIC_ATTEMPTS = 50
EMAIL_CONFIRM_SALT = "accounts.email-confirm"
EMAIL_CONFIRM_MAX_AGE = 7 * 24 * 3600


class EmailInUse(Exception):
    """Another account already has this address (compared case-blind)."""


def nic_handle_claim(*, first_name, last_name, handle=None):
    """Reserve a NIC handle for good. A random candidate that is taken (the unique index
    says so, even against a concurrent signup on PostgreSQL) is simply drawn again."""
    for _attempt in range(NIC_ATTEMPTS):
        candidate = handle or nic_handle_candidate(first_name, last_name)
        try:
            with transaction.atomic():
                IssuedNicHandle.objects.create(handle=candidate)
        except IntegrityError:
            if handle:
                raise ValueError(f"The NIC handle {handle} is already taken.") from None
            log.info("NIC handle %s taken, drawing another", candidate)
            continue
        return candidate
    raise RuntimeError("Could not draw a free NIC handle")  # 50 collisions in a row


def account_create(*, email, password, first_name, last_name, nic_handle=None,
                   send_confirmation=True, request=None, **profile):
    """Create a customer with a fresh NIC handle and, in the same transaction, the
    confirmation email that carries it."""
    email = email.strip().lower()
    with transaction.atomic():
        handle = nic_handle_claim(first_name=first_name, last_name=last_name, handle=nic_handle)
        user = User(nic_handle=handle, email=email, first_name=first_name,
                    last_name=last_name, **profile)
        user.set_password(password)
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:
            if User.objects.filter(email__lower=email).exists():
                raise EmailInUse(email) from None
            raise
        security_log(user=user, action=SecurityEvent.Action.SIGNUP, request=request)
        if send_confirmation:
            account_send_confirmation(user=user)
    return user


def email_confirmation_token(user):
    return signing.dumps({"u": user.pk, "e": user.email}, salt=EMAIL_CONFIRM_SALT, compress=True)


def account_send_confirmation(*, user):
    return email_queue(
        template="account_created",
        to=user.email,
        user=user,
        context={"confirm_path": f"/signup/confirm/{email_confirmation_token(user)}/"},
    )


def account_confirm_email(*, token, request=None):
    """The user whose current address the token vouches for, now confirmed; None if the
    token is bad, expired, or for an address the account no longer has."""
    try:
        data = signing.loads(token, salt=EMAIL_CONFIRM_SALT, max_age=EMAIL_CONFIRM_MAX_AGE)
    except signing.BadSignature:
        return None
    user = User.objects.filter(pk=data.get("u"), email__lower=str(data.get("e", "")).lower()).first()
    if user is None:
        return None
    if User.objects.filter(pk=user.pk, email_confirmed_at__isnull=True).update(
        email_confirmed_at=timezone.now()
    ):
        security_log(user=user, action=SecurityEvent.Action.EMAIL_CONFIRMED, request=request,
                     email=user.email)
        user.refresh_from_db(fields=["email_confirmed_at"])
    return user


def login_notify(*, user, request):
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
