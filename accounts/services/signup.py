"""Signup: a customer with a fresh NIC handle, the confirmation email that carries it, and
the same answer whether or not the address is taken."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import (
    IssuedNicHandle,
    SecurityEvent,
    User,
)
from accounts.security import security_log
from accounts.services.common import rate_limit
from notifications.models import OutboundEmail
from notifications.services import email_queue
from portal.errors import DomainError
from portal.links import portal_url
from portal.requestinfo import client_ip
from portal.text import normalise_email

if TYPE_CHECKING:
    from django.http import HttpRequest

log = logging.getLogger(__name__)

EMAIL_CONFIRM_SALT = "accounts.email-confirm"
EMAIL_CONFIRM_MAX_AGE = 7 * 24 * 3600


class EmailInUse(Exception):
    """Another account already has this address (compared case-blind)."""


# The unique constraint on User's lower-cased email (User.Meta): the database names it
# when it refuses a row, on SQLite and PostgreSQL alike.
EMAIL_UNIQUE_CONSTRAINT = "user_email_ci_unique"


def account_create(
        *, email: str, password: str, first_name: str, last_name: str,
        nic_handle: str = None, send_confirmation: bool = True,
        request: HttpRequest | None = None, **profile) -> User:
    """Create a customer with a fresh NIC handle and, in the same transaction, the
    confirmation email that carries it. The address is stored in normal form
    (portal.text.normalise_email, which raises ValidationError)."""
    email = normalise_email(email)
    with transaction.atomic():
        handle = IssuedNicHandle.objects.claim(first_name=first_name, last_name=last_name,
                                               handle=nic_handle)
        user = User(nic_handle=handle, email=email, first_name=first_name,
                    last_name=last_name, **profile)
        user.set_password(password)
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError as error:
            if EMAIL_UNIQUE_CONSTRAINT in str(error):
                raise EmailInUse(email) from None
            raise
        security_log(user=user, action=SecurityEvent.Action.SIGNUP, request=request)
        if send_confirmation:
            account_send_confirmation(user=user)
    return user


SIGNUP_LIMIT_PER_IP = (10, 3600)  # ten signups an hour from one address


def signup_rate_limit(*, request: HttpRequest | None) -> None:
    """Count a signup attempt from this IP address, valid or not, before the form is
    read: the limit never depends on what was typed. Raises RateLimited."""
    rate_limit(f"signup-ip:{client_ip(request)}", SIGNUP_LIMIT_PER_IP)


def account_signup(
        *, email: str, password: str, first_name: str, last_name: str,
        request: HttpRequest | None = None, **profile) -> User | None:
    """What /signup/ does, with the same work and the same answer whether or not the
    address is taken, so that neither the page nor its timing tells them apart.
    1. In one transaction, read the account that has this address, if any: both cases
       make this read, and a taken address needs it for step 3.
    2. Create the account in a savepoint (account_create: claim a NIC handle, hash the
       password, insert the row, log it, queue the confirmation email), even when step 1
       found an owner: the database's unique constraint refuses the row then, after the
       same hashing and inserting.
    3. When it is refused, the savepoint is rolled back (the handle claim with it:
       nothing is created) and, in the same transaction, the owner of the address is
       emailed instead: someone tried to sign up with it; log in, or use "Forgotten
       password?" if it was you. No secret in it.
    Returns the new account, or None when the address was taken."""
    email = email.strip().lower()
    with transaction.atomic():
        owner = User.objects.filter(email__lower=email).first()
        try:
            return account_create(email=email, password=password, first_name=first_name,
                                  last_name=last_name, request=request, **profile)
        except EmailInUse:
            pass
        owner = owner or User.objects.filter(email__lower=email).first()  # taken meanwhile
        if owner is not None:
            email_queue(template="signup_address_taken", to=owner.email, user=owner,
                        context={"login_path": reverse("accounts:login"),
                                 "forgotten_path": reverse("accounts:password-reset")})
    return None


def email_confirmation_token(user: User) -> str:
    return signing.dumps({"u": user.pk, "e": user.email}, salt=EMAIL_CONFIRM_SALT, compress=True)


CONFIRMATION_RESEND_INTERVAL = timedelta(minutes=1)


def account_resend_confirmation(*, user: User) -> None:
    """The customer asks for the confirmation email again: at most one a minute.
    Raises DomainError when the address is confirmed already or one just went."""
    if user.email_confirmed:
        raise DomainError(_("Your email address is already confirmed."), code="confirmed")
    recent = OutboundEmail.objects.filter(
        user=user, kind="account_created",
        created_at__gt=timezone.now() - CONFIRMATION_RESEND_INTERVAL).exists()
    if recent:
        raise DomainError(_("We sent you a confirmation email less than a minute ago. "
                            "Please check your inbox, then try again in a minute."),
                          code="too_soon")
    account_send_confirmation(user=user)


def account_send_confirmation(*, user: User) -> OutboundEmail | None:
    return email_queue(
        template="account_created",
        to=user.email,
        user=user,
        secrets={"confirm_url": portal_url(
            reverse("accounts:confirm-email", args=[email_confirmation_token(user)]))},
    )


def account_confirm_email(*, token: str, request: HttpRequest | None = None) -> User | None:
    """The user whose current address the token vouches for, now confirmed; None if the
    token is bad, expired, or for an address the account no longer has."""
    try:
        data = signing.loads(token, salt=EMAIL_CONFIRM_SALT, max_age=EMAIL_CONFIRM_MAX_AGE)
    except signing.BadSignature:
        return None
    user = User.objects.filter(pk=data.get("u"),
                               email__lower=str(data.get("e", "")).lower()).first()
    if user is None:
        return None
    if User.objects.filter(pk=user.pk, email_confirmed_at__isnull=True).update(
        email_confirmed_at=timezone.now()
    ):
        security_log(user=user, action=SecurityEvent.Action.EMAIL_CONFIRMED, request=request,
                     email=user.email)
        user.refresh_from_db(fields=["email_confirmed_at"])
    return user
