"""Account workflows: creating a customer with a NIC handle, confirming the address,
recording a login."""

import logging
import math
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, F, OuterRef, Subquery, Value
from django.db.models.functions import JSONObject, Lower
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import (
    EmailChangeRequest,
    IssuedNicHandle,
    PasswordResetAttempt,
    RecoveryRequest,
    SecurityEvent,
    User,
)
from accounts.nic import nic_handle_candidate
from accounts.security import security_log
from notifications.services import email_is_wanted, email_queue, email_queue_select
from portal.db import insert_from_select
from portal.ratelimit import rate_limit_hit
from portal.links import portal_url
from portal.requestinfo import browser_and_system, client_ip, user_agent
from portal.text import normalise_email

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
    confirmation email that carries it. The address is stored in normal form
    (portal.text.normalise_email, which raises ValidationError)."""
    email = normalise_email(email)
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
        secrets={"confirm_url": portal_url(f"/signup/confirm/{email_confirmation_token(user)}/")},
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


# --- primary email change ---------------------------------------------------------------

EMAIL_CHANGE_DELAY = timedelta(hours=24)
EMAIL_CHANGE_UNCONFIRMED_LIMIT = timedelta(days=7)
EMAIL_CHANGE_MAX_WRONG_CODES = 5
EMAIL_CHANGE_RESEND_INTERVAL = timedelta(minutes=1)
EMAIL_CHANGE_MAX_CODES = 5
EMAIL_CHANGE_BATCH = 1000
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read from an email
CODE_LENGTH = 8
REFUSE_SALT = "accounts.email-change.refuse"
CONFIRM_NEW_SALT = "accounts.email-change.confirm-new"
LINK_MAX_AGE = 8 * 24 * 3600


class EmailChangeError(Exception):
    """A step of the email change that cannot be done; the message is for the customer."""


def _code_hash(change_id, code):
    normalised = "".join(code.split()).upper()
    return salted_hmac("accounts.email-change.code", f"{change_id}:{normalised}",
                       algorithm="sha256").hexdigest()


def _new_code():
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def email_change_link_token(change, salt):
    return signing.dumps({"c": change.pk}, salt=salt)


def email_change_from_token(token, salt):
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
            f"/account/email/refuse/{email_change_link_token(change, REFUSE_SALT)}/")},
    )


def email_change_pending(*, user):
    return EmailChangeRequest.objects.filter(user=user, state=EmailChangeRequest.State.TODO).first()


def email_change_request(*, user, new_email, request=None):
    """1. Abort the customer's pending request, if any.
    2. Create the new one, due in 24 hours, with a fresh code (only its hash is kept).
    3. Send the code to the current address (with a refuse link), and a link to the new
       address that proves it is reachable."""
    new_email = normalise_email(new_email)
    now = timezone.now()
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if new_email == user.email.lower():
            raise EmailChangeError(_("This is already your email address."))
        if User.objects.filter(email__lower=new_email).exclude(pk=user.pk).exists():
            raise EmailChangeError(_("This address is already used by another account."))
        previous = EmailChangeRequest.objects.select_for_update().filter(
            user=user, state=EmailChangeRequest.State.TODO).first()
        if previous:
            _email_change_close(previous, state=EmailChangeRequest.State.ABORTED, now=now,
                                reason="replaced by a new request", request=request)
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
        email_queue(
            template="email_change_confirm_new", to=new_email, user=user,
            context={"change": change},
            secrets={"confirm_url": portal_url(
                f"/account/email/confirm/{email_change_link_token(change, CONFIRM_NEW_SALT)}/")},
        )
    return change


def email_change_resend_code(*, change, request=None):
    """A new code replaces the old one. At most one a minute and five per request."""
    now = timezone.now()
    with transaction.atomic():
        change = EmailChangeRequest.objects.select_for_update().select_related("user").get(pk=change.pk)
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


VERIFY_APPLIED = "applied"
VERIFY_WRONG = "wrong"
VERIFY_TOO_MANY = "too-many"
VERIFY_ADDRESS_TAKEN = "address-taken"


def email_change_verify(*, change, code, request=None):
    """Apply the change at once when the code is right; five wrong codes abort it.
    Returns one of the VERIFY_* outcomes."""
    now = timezone.now()
    with transaction.atomic():
        change = EmailChangeRequest.objects.select_for_update().select_related("user").get(pk=change.pk)
        if not change.is_pending:
            raise EmailChangeError(_("This request is no longer pending."))
        if constant_time_compare(_code_hash(change.pk, code or ""), change.code_hash):
            applied = _email_change_apply_or_abort(change, now=now, request=request, how="code")
            return VERIFY_APPLIED if applied else VERIFY_ADDRESS_TAKEN
        change.wrong_codes += 1
        change.save(update_fields=["wrong_codes"])
        security_log(user=change.user, action=SecurityEvent.Action.EMAIL_CHANGE_CODE_FAILED,
                     request=request, attempt=change.wrong_codes)
        if change.wrong_codes >= EMAIL_CHANGE_MAX_WRONG_CODES:
            _email_change_close(change, state=EmailChangeRequest.State.ABORTED, now=now,
                                reason="too many wrong codes", request=request, notify=True)
            return VERIFY_TOO_MANY
    return VERIFY_WRONG


def email_change_cancel(*, change, request=None):
    with transaction.atomic():
        change = EmailChangeRequest.objects.select_for_update().select_related("user").get(pk=change.pk)
        if change.is_pending:
            _email_change_close(change, state=EmailChangeRequest.State.ABORTED,
                                now=timezone.now(), reason="cancelled by the customer",
                                request=request)
    return change


def email_change_refuse(*, token, request=None):
    """The refuse link sent to the current address. Returns the request, or None."""
    change = email_change_from_token(token, REFUSE_SALT)
    if change is None:
        return None
    with transaction.atomic():
        change = EmailChangeRequest.objects.select_for_update().select_related("user").get(pk=change.pk)
        if change.is_pending:
            _email_change_close(change, state=EmailChangeRequest.State.REFUSED,
                                now=timezone.now(), reason="refused from the current address",
                                request=request, notify=True)
    return change


def email_change_confirm_new(*, token, request=None):
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


def _email_change_close(change, *, state, now, reason, request=None, actor=None,
                        notify=False):
    closed = EmailChangeRequest.objects.filter(
        pk=change.pk, state=EmailChangeRequest.State.TODO
    ).update(state=state, decided_at=now, reason=reason)
    if not closed:
        return False
    change.state, change.decided_at, change.reason = state, now, reason
    action = (SecurityEvent.Action.EMAIL_CHANGE_REFUSED if state == EmailChangeRequest.State.REFUSED
              else SecurityEvent.Action.EMAIL_CHANGE_ABORTED)
    security_log(user=change.user, action=action, request=request, actor=actor,
                 new_email=change.new_email, reason=reason)
    if notify:
        email_queue(template="email_change_cancelled", to=change.user.email, user=change.user,
                    context={"change": change, "state": state, "reason_code": reason})
    return True


def _email_change_apply(change, *, now, request=None, actor=None, how):
    """Inside the caller's transaction, with the request row locked or claimed."""
    user = change.user
    if User.objects.filter(email__lower=change.new_email.lower()).exclude(pk=user.pk).exists():
        _email_change_close(change, state=EmailChangeRequest.State.ABORTED, now=now,
                            reason="the new address is now used by another account",
                            request=request, actor=actor, notify=True)
        return False
    if not EmailChangeRequest.objects.filter(
        pk=change.pk, state=EmailChangeRequest.State.TODO
    ).update(state=EmailChangeRequest.State.DONE, decided_at=now, reason=how):
        return False
    change.state = EmailChangeRequest.State.DONE
    old_email = user.email
    user.email = change.new_email
    user.email_confirmed_at = change.new_email_confirmed_at
    user.save(update_fields=["email", "email_confirmed_at"])
    security_log(user=user, action=SecurityEvent.Action.EMAIL_CHANGED, request=request,
                 actor=actor, old_email=old_email, new_email=user.email, how=how)
    for address in (old_email, user.email):
        email_queue(template="email_changed", to=address, user=user,
                    context={"old_email": old_email, "new_email": user.email})
    return True


def _email_change_apply_or_abort(change, *, now, how, request=None, actor=None):
    """Apply in a savepoint; if the database refuses the new address (taken meanwhile),
    abort the request with that reason instead of failing the caller."""
    try:
        with transaction.atomic():
            return _email_change_apply(change, now=now, request=request, actor=actor, how=how)
    except IntegrityError:
        change.state = EmailChangeRequest.State.TODO
        _email_change_close(change, state=EmailChangeRequest.State.ABORTED, now=now,
                            reason="the new address is now used by another account",
                            request=request, actor=actor, notify=True)
        return False


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
        if _email_change_apply_or_abort(change, now=now, how=AUTO_APPLY_REASON):
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
                _email_change_close(change, state=EmailChangeRequest.State.ABORTED, now=now,
                                    reason="the new address was never confirmed", notify=True)
                aborted += 1


# --- profile ------------------------------------------------------------------------------

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


# --- passwords ----------------------------------------------------------------------------

RESET_LIMIT_PER_ACCOUNT = (3, 3600)   # three links an hour for one account
RESET_LIMIT_PER_IP = (20, 3600)
RECOVERY_LIMIT_PER_IP = (5, 3600)
RECOVERY_CANCEL_SALT = "accounts.recovery.cancel"


class RateLimited(Exception):
    def __init__(self, retry_after):
        super().__init__(retry_after)
        self.retry_after = retry_after


def _limit(key, rule):
    limit, window = rule
    allowed, retry_after = rate_limit_hit(key, limit=limit, window=window)
    if not allowed:
        raise RateLimited(retry_after)


def password_reset_url(user):
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return portal_url(f"/reset/{uid}/{default_token_generator.make_token(user)}/")


def password_reset_request(*, login, request=None):
    """Record a "Forgotten password?" request and hand it to a worker. The answer, the
    work done here and the rate limits are the same whether or not an account matches
    (the account key falls back to what was typed); password_reset_send does the rest."""
    login = (login or "").strip().lower()[:254]
    _limit(f"reset-ip:{client_ip(request)}", RESET_LIMIT_PER_IP)
    account_key = User.objects.filter_by_login(login).values_list("pk", flat=True).first()
    _limit(f"reset-account:{account_key or login}", RESET_LIMIT_PER_ACCOUNT)
    with transaction.atomic():
        attempt = PasswordResetAttempt.objects.create(
            login=login, ip_address=client_ip(request), user_agent=user_agent(request))
        transaction.on_commit(lambda: _enqueue_password_reset(attempt.pk))
    return attempt


def _enqueue_password_reset(attempt_id):
    from accounts.tasks import send_password_reset_task

    try:
        send_password_reset_task.delay(attempt_id)
    except Exception:
        log.warning("Could not enqueue reset request %s; the re-queue job will", attempt_id,
                    exc_info=True)


def password_reset_send(*, attempt_id):
    """In the worker: claim the request, find the active account it names, log it and
    queue the single-use link (valid PASSWORD_RESET_TIMEOUT) to the primary address."""
    with transaction.atomic():
        if not PasswordResetAttempt.objects.filter(pk=attempt_id, processed_at=None).update(
            processed_at=timezone.now()
        ):
            return None
        attempt = PasswordResetAttempt.objects.get(pk=attempt_id)
        login = attempt.login
        user = User.objects.filter_by_login(login).filter(is_active=True).first()
        if user is None:
            return None
        attempt.user = user
        attempt.save(update_fields=["user"])
        security_log(user=user, action=SecurityEvent.Action.PASSWORD_RESET_REQUESTED,
                     ip_address=attempt.ip_address, user_agent_text=attempt.user_agent)
        email_queue(template="password_reset", to=user.email, user=user,
                    context={"valid_minutes": settings.PASSWORD_RESET_TIMEOUT // 60},
                    secrets={"reset_url": password_reset_url(user)})
    return user


def password_resets_requeue_stale(*, now=None):
    """Requests the broker lost (it was down at commit): hand them to a worker again.
    Processing claims each one, so a request sent twice is still handled once."""
    now = now or timezone.now()
    stale = PasswordResetAttempt.objects.filter(
        processed_at=None, created_at__lt=now - timedelta(minutes=2),
        created_at__gt=now - timedelta(hours=1),
    ).values_list("pk", flat=True)[:500]
    for attempt_id in stale:
        _enqueue_password_reset(attempt_id)
    return len(stale)


def password_changed(*, user, request=None, actor=None, how):
    """After any password change: the notice email (never switched off) and the log line.
    Other sessions end by themselves: Django ties each session to the password hash."""
    action = (SecurityEvent.Action.PASSWORD_RESET if how == "reset"
              else SecurityEvent.Action.PASSWORD_CHANGED)
    security_log(user=user, action=action, request=request, actor=actor)
    security_log(user=user, action=SecurityEvent.Action.SESSIONS_ENDED, request=request,
                 actor=actor, reason=f"password {how}")
    email_queue(template="password_changed", to=user.email, user=user,
                context={"ip": client_ip(request), "how": how})


def password_change(*, user, new_password, request=None):
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        password_changed(user=user, request=request, how="change")
    return user


# --- account recovery ---------------------------------------------------------------------

def recovery_request_create(*, nic_handle, new_email, message, request=None):
    """Record the request when the NIC handle exists, and answer the same when it does
    not: the new address is told either way, the current one only when there is one."""
    _limit(f"recovery-ip:{client_ip(request)}", RECOVERY_LIMIT_PER_IP)
    new_email = normalise_email(new_email)
    user = User.objects.filter(nic_handle__lower=nic_handle.strip().lower(),
                               is_active=True).first()
    with transaction.atomic():
        recovery = None
        if user is not None:
            recovery = RecoveryRequest.objects.create(
                user=user, old_email=user.email, new_email=new_email, message=message,
                ip_address=client_ip(request),
            )
            security_log(user=user, action=SecurityEvent.Action.RECOVERY_REQUESTED,
                         request=request, new_email=new_email, recovery=recovery.pk)
            token = signing.dumps({"r": recovery.pk}, salt=RECOVERY_CANCEL_SALT)
            email_queue(template="recovery_notice", to=user.email, user=user,
                        context={"recovery": recovery},
                        secrets={"cancel_url": portal_url(f"/account-recovery/cancel/{token}/")})
        email_queue(template="recovery_received", to=new_email, user=None,
                    language=translation.get_language(),
                    context={"nic_handle_given": nic_handle.strip()})
    return recovery


def recovery_from_token(token):
    try:
        data = signing.loads(token, salt=RECOVERY_CANCEL_SALT, max_age=30 * 24 * 3600)
    except signing.BadSignature:
        return None
    return RecoveryRequest.objects.select_related("user").filter(pk=data.get("r")).first()


def _recovery_close(recovery, *, state, actor=None, reason="", request=None):
    closed = RecoveryRequest.objects.filter(
        pk=recovery.pk, state=RecoveryRequest.State.PENDING
    ).update(state=state, decided_at=timezone.now(), decided_by=actor, reason=reason)
    if closed:
        recovery.refresh_from_db()
    return bool(closed)


def recovery_request_cancel(*, recovery, request=None):
    with transaction.atomic():
        if _recovery_close(recovery, state=RecoveryRequest.State.CANCELLED, request=request):
            security_log(user=recovery.user, action=SecurityEvent.Action.RECOVERY_CANCELLED,
                         request=request, recovery=recovery.pk)
            return True
    return False


def recovery_request_approve(*, recovery, staff_user, reason, request=None):
    """1. Close the request (only if still pending).
    2. The primary address becomes the new one (unconfirmed until the customer uses it);
       a pending email change is aborted.
    3. The new address gets a reset link; the old one a notice.
    Only a superuser decides for a staff account (StaffActionRefused)."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=recovery.user_id)
        _staff_may_manage(user=user, staff_user=staff_user)
        if User.objects.filter(email__lower=recovery.new_email).exclude(pk=user.pk).exists():
            raise EmailChangeError(_("The new address is used by another account."))
        if not _recovery_close(recovery, state=RecoveryRequest.State.APPROVED,
                               actor=staff_user, reason=reason):
            raise EmailChangeError(_("This request is no longer pending."))
        pending = EmailChangeRequest.objects.filter(user=user,
                                                    state=EmailChangeRequest.State.TODO).first()
        if pending:
            _email_change_close(pending, state=EmailChangeRequest.State.ABORTED,
                                now=timezone.now(), reason="account recovery approved",
                                actor=staff_user)
        old_email = user.email
        user.email = recovery.new_email
        user.email_confirmed_at = None
        user.save(update_fields=["email", "email_confirmed_at"])
        security_log(user=user, action=SecurityEvent.Action.RECOVERY_APPROVED, request=request,
                     actor=staff_user, old_email=old_email, new_email=user.email,
                     reason=reason, recovery=recovery.pk)
        email_queue(template="recovery_approved", to=user.email, user=user,
                    context={"valid_minutes": settings.PASSWORD_RESET_TIMEOUT // 60},
                    secrets={"reset_url": password_reset_url(user)})
        email_queue(template="email_changed", to=old_email, user=user,
                    context={"old_email": old_email, "new_email": user.email})
    return recovery


def recovery_request_refuse(*, recovery, staff_user, reason, request=None):
    with transaction.atomic():
        _staff_may_manage(user=recovery.user, staff_user=staff_user)
        if not _recovery_close(recovery, state=RecoveryRequest.State.REFUSED, actor=staff_user,
                               reason=reason):
            raise EmailChangeError(_("This request is no longer pending."))
        security_log(user=recovery.user, action=SecurityEvent.Action.RECOVERY_REFUSED,
                     request=request, actor=staff_user, reason=reason, recovery=recovery.pk)
        # The new address is not (yet) the account's: no name, no NIC handle in this one.
        email_queue(template="recovery_refused", to=recovery.new_email, user=None,
                    language=recovery.user.language, context={"reason": reason})
    return recovery


# --- support staff ------------------------------------------------------------------------

class StaffActionRefused(Exception):
    """A member of staff may not act on this account; the message is for them."""


def _staff_may_manage(*, user, staff_user):
    if not user.may_be_managed_by(staff_user):
        raise StaffActionRefused(_("Only a superuser may act on a staff account."))


def staff_account_changed(*, user, staff_user, what, request=None, **detail):
    """A staff member changed this account: the security log keeps who, the customer is
    told by email (a security notice, never switched off). Called inside the caller's
    transaction, which a refusal rolls back."""
    _staff_may_manage(user=user, staff_user=staff_user)
    security_log(user=user, action=SecurityEvent.Action.STAFF_ACTION, request=request,
                 actor=staff_user, what=what, **detail)
    # Field labels, not names: lazy, so they come out in the customer's language.
    labels = [User._meta.get_field(name).verbose_name for name in detail.get("fields", [])]
    email_queue(template="staff_action", to=user.email, user=user,
                context={"what": what, "detail": detail, "field_labels": labels})


def password_reset_send_by_staff(*, user, staff_user, request=None):
    """Staff never set a password: they send the customer a reset link."""
    _staff_may_manage(user=user, staff_user=staff_user)
    with transaction.atomic():
        security_log(user=user, action=SecurityEvent.Action.STAFF_ACTION, request=request,
                     actor=staff_user, what="password_reset_sent")
        email_queue(template="password_reset", to=user.email, user=user,
                    context={"valid_minutes": settings.PASSWORD_RESET_TIMEOUT // 60},
                    secrets={"reset_url": password_reset_url(user)})


def email_change_staff_abort(*, change, staff_user, reason, request=None):
    with transaction.atomic():
        change = EmailChangeRequest.objects.select_for_update().select_related("user").get(pk=change.pk)
        _staff_may_manage(user=change.user, staff_user=staff_user)
        if not _email_change_close(change, state=EmailChangeRequest.State.ABORTED,
                                   now=timezone.now(), reason=f"support: {reason}",
                                   request=request, actor=staff_user, notify=True):
            raise EmailChangeError(_("This request is no longer pending."))
    return change


def email_change_staff_apply(*, change, staff_user, reason, request=None):
    """Support applies a pending change at once (for instance after checking identity)."""
    with transaction.atomic():
        change = EmailChangeRequest.objects.select_for_update().select_related("user").get(pk=change.pk)
        _staff_may_manage(user=change.user, staff_user=staff_user)
        if not change.is_pending:
            raise EmailChangeError(_("This request is no longer pending."))
        if not _email_change_apply_or_abort(change, now=timezone.now(), request=request,
                                            actor=staff_user, how=f"support: {reason}"):
            raise EmailChangeError(_("The new address is now used by another account; the "
                                     "request was aborted."))
    return change


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


# --- stored addresses ---------------------------------------------------------------------

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
