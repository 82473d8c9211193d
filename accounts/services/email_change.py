"""The primary-email change (OVHcloud's states: todo, done, refused, aborted): the
request, its code and links, and closing or applying one request."""

from __future__ import annotations

import logging
import math
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import (
    EmailChangeRequest,
    SecurityEvent,
    User,
)
from accounts.security import security_log
from accounts.services.common import EmailChangeError
from accounts.services.email_change_outcomes import (
    email_change_apply_or_abort,
    email_change_close,
    email_change_locked,
)
from notifications.services import email_queue
from portal.links import portal_url
from portal.text import normalise_email

if TYPE_CHECKING:

    from django.http import HttpRequest

log = logging.getLogger(__name__)

EMAIL_CHANGE_DELAY = timedelta(hours=24)
EMAIL_CHANGE_MAX_WRONG_CODES = 5
EMAIL_CHANGE_RESEND_INTERVAL = timedelta(minutes=1)
EMAIL_CHANGE_MAX_CODES = 5
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read from an email
CODE_LENGTH = 8
REFUSE_SALT = "accounts.email-change.refuse"
CONFIRM_NEW_SALT = "accounts.email-change.confirm-new"
LINK_MAX_AGE = 8 * 24 * 3600




def _code_hash(change_id, code):
    normalised = "".join(code.split()).upper()
    return salted_hmac("accounts.email-change.code", f"{change_id}:{normalised}",
                       algorithm="sha256").hexdigest()


def _new_code():
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def email_change_link_token(change: EmailChangeRequest, salt: str) -> str:
    return signing.dumps({"c": change.pk}, salt=salt)


def email_change_from_token(token: str, salt: str) -> EmailChangeRequest | None:
    try:
        data = signing.loads(token, salt=salt, max_age=LINK_MAX_AGE)
    except signing.BadSignature:
        return None
    return EmailChangeRequest.objects.select_related("user").filter(pk=data.get("c")).first()


def _send_code(change, code):
    email_queue(
        template="email_change_code", to=change.old_email, user=change.user,
        context={"change": change},
        secrets={"code": code, "refuse_url": portal_url(
            reverse("accounts:email-change-refuse",
                    args=[email_change_link_token(change, REFUSE_SALT)]))},
    )


def email_change_request(
        *, user: User, new_email: str, request: HttpRequest | None = None) -> EmailChangeRequest:
    """1. Abort the customer's pending request, if any.
    2. Create the new one, due in 24 hours, with a fresh code (only its hash is kept).
    3. Send the code to the current address (with a refuse link).
    4. To the new address: a link that proves it is reachable; or, when another account
       already uses it, a short notice instead. Without the link the request can never
       be confirmed, so the 24-hour rule never applies it, and applying it with the code
       aborts it (_email_change_apply). The customer gets the same answer either way and
       sees the same in the email history: whatever goes to the new address (not, or
       not yet, the account's) is kept out of it."""
    new_email = normalise_email(new_email)
    now = timezone.now()
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if new_email == user.email.lower():
            raise EmailChangeError(_("This is already your email address."), field="new_email")
        taken = User.objects.email_in_use(new_email, exclude=user)
        previous = EmailChangeRequest.objects.select_for_update().filter(
            user=user, state=EmailChangeRequest.State.TODO).first()
        if previous:
            email_change_close(previous, state=EmailChangeRequest.State.ABORTED, now=now,
                                reason=EmailChangeRequest.Reason.REPLACED, request=request)
        change = EmailChangeRequest.objects.create(
            user=user, old_email=user.email, new_email=new_email, due_at=now + EMAIL_CHANGE_DELAY,
            code_sent_at=now, created_at=now,
        )
        code = _new_code()
        change.code_hash = _code_hash(change.pk, code)
        change.save(update_fields=["code_hash"])
        security_log(user=user, action=SecurityEvent.Action.EMAIL_CHANGE_REQUESTED,
                     request=request, old_email=change.old_email, new_email=new_email)
        _send_code(change, code)
        if taken:
            # Someone else's mailbox: nothing about the account that asked.
            email_queue(template="email_change_address_taken", to=new_email, user=None,
                        language=user.language, context={"login_path": reverse("accounts:login")})
        else:
            email_queue(
                template="email_change_confirm_new", to=new_email, user=None,
                language=user.language,
                context={"change": change, "nic_handle": user.nic_handle},
                secrets={"confirm_url": portal_url(
                    reverse("accounts:email-change-confirm-new",
                            args=[email_change_link_token(change, CONFIRM_NEW_SALT)]))},
            )
    return change


def email_change_resend_code(
        *, change: EmailChangeRequest, request: HttpRequest | None = None) -> EmailChangeRequest:
    """A new code replaces the old one. At most one a minute and five per request."""
    now = timezone.now()
    with transaction.atomic():
        change = email_change_locked(change)
        if not change.is_pending:
            raise EmailChangeError(_("This request is no longer pending."))
        if change.codes_sent >= EMAIL_CHANGE_MAX_CODES:
            raise EmailChangeError(_("You have asked for too many codes for this request. "
                                     "Start a new request if you need another one."))
        wait = change.code_sent_at + EMAIL_CHANGE_RESEND_INTERVAL - now
        if wait.total_seconds() > 0:
            raise EmailChangeError(
                ngettext("Please wait %(seconds)d second before asking for another code.",
                         "Please wait %(seconds)d seconds before asking for another code.",
                         math.ceil(wait.total_seconds()))
                % {"seconds": math.ceil(wait.total_seconds())})
        code = _new_code()
        change.code_hash = _code_hash(change.pk, code)
        change.code_sent_at = now
        change.codes_sent += 1
        change.save(update_fields=["code_hash", "code_sent_at", "codes_sent"])
        security_log(user=change.user, action=SecurityEvent.Action.EMAIL_CHANGE_CODE_SENT,
                     request=request)
        _send_code(change, code)
    return change


class WrongCode(EmailChangeError):
    """The code is not the one sent; the request stays pending (field: code)."""


def email_change_verify(*, change: EmailChangeRequest, code: str,
                        request: HttpRequest | None = None) -> EmailChangeRequest:
    """Apply the change at once when the code is right. A wrong code raises WrongCode,
    saying how many attempts are left; the fifth aborts the request (EmailChangeError),
    as does a new address that another account took meanwhile."""
    now = timezone.now()
    with transaction.atomic():
        change = email_change_locked(change)
        if not change.is_pending:
            raise EmailChangeError(_("This request is no longer pending."))
        if constant_time_compare(_code_hash(change.pk, code or ""), change.code_hash):
            if email_change_apply_or_abort(change, now=now, request=request,
                                           how=EmailChangeRequest.Reason.CODE):
                return change
            taken = True
        else:
            taken = False
            change.wrong_codes += 1
            change.save(update_fields=["wrong_codes"])
            security_log(user=change.user, action=SecurityEvent.Action.EMAIL_CHANGE_CODE_FAILED,
                         request=request, attempt=change.wrong_codes)
            if change.wrong_codes >= EMAIL_CHANGE_MAX_WRONG_CODES:
                email_change_close(change, state=EmailChangeRequest.State.ABORTED, now=now,
                                   reason=EmailChangeRequest.Reason.WRONG_CODES, request=request,
                                   notify=True)
    # Raised once the transaction has kept the count and the log line.
    if taken:
        raise EmailChangeError(
            _("The request was aborted: the new address is now used by another account."))
    left = EMAIL_CHANGE_MAX_WRONG_CODES - change.wrong_codes
    if left <= 0:
        raise EmailChangeError(_("The request was aborted: too many wrong codes."))
    raise WrongCode(ngettext("This code is not correct. %(left)d attempt left.",
                             "This code is not correct. %(left)d attempts left.", left)
                    % {"left": left}, field="code")


def email_change_cancel(
        *, change: EmailChangeRequest, request: HttpRequest | None = None) -> EmailChangeRequest:
    with transaction.atomic():
        change = email_change_locked(change)
        if change.is_pending:
            email_change_close(change, state=EmailChangeRequest.State.ABORTED,
                                now=timezone.now(), reason=EmailChangeRequest.Reason.CANCELLED,
                                request=request)
    return change


def email_change_refuse(
        *, token: str, request: HttpRequest | None = None) -> EmailChangeRequest | None:
    """The refuse link sent to the current address. Returns the request, or None."""
    change = email_change_from_token(token, REFUSE_SALT)
    if change is None:
        return None
    with transaction.atomic():
        change = email_change_locked(change)
        if change.is_pending:
            email_change_close(change, state=EmailChangeRequest.State.REFUSED,
                                now=timezone.now(), reason=EmailChangeRequest.Reason.REFUSED,
                                request=request, notify=True)
    return change


def email_change_confirm_new(
        *, token: str, request: HttpRequest | None = None) -> EmailChangeRequest | None:
    """The link sent to the new address: it is reachable. Returns the request, or None."""
    change = email_change_from_token(token, CONFIRM_NEW_SALT)
    if change is None:
        return None
    confirmed = EmailChangeRequest.objects.filter(
        pk=change.pk, state=EmailChangeRequest.State.TODO, new_email_confirmed_at__isnull=True
    ).update(new_email_confirmed_at=timezone.now())
    if confirmed:
        security_log(user=change.user, action=SecurityEvent.Action.EMAIL_CHANGE_NEW_CONFIRMED,
                     request=request, new_email=change.new_email)
    change.refresh_from_db()
    return change
