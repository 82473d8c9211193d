"""The second factor: an authenticator app (TOTP, accounts.models.AuthenticatorApp) and ten
single-use backup codes. Every enrolment, removal, regeneration and use of a backup
code goes to the security log and is emailed (a security notice: never switched off).

Wrong codes are throttled per account like passwords (AXES_FAILURE_LIMIT failures, then
nothing is checked, not even a right code, until AXES_COOLOFF_TIME ends), whether they
come from the login's second step, a re-authentication or turning the factor off."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import AuthenticatorApp, BackupCode, SecurityEvent, SecurityKey
from accounts.security import security_log, security_page_changed
from notifications.services import email_queue
from portal.errors import DomainError
from portal.ratelimit import rate_limit_hit, rate_limit_undo
from portal.requestinfo import client_ip

if TYPE_CHECKING:
    from django.http import HttpRequest

    from accounts.models import User

BACKUP_CODE_COUNT = 10
BACKUP_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
BACKUP_CODE_LENGTH = 10                                  # shown as two groups of five


class WrongSecondFactorCode(DomainError):
    """The code matches no authenticator app and no unused backup code."""


class SecondFactorThrottled(DomainError):
    """Too many wrong codes; `retry_after` seconds until the cool-off ends."""

    def __init__(self, retry_after: int):
        minutes = max(1, -(-retry_after // 60))
        super().__init__(ngettext(
            "Too many wrong codes. For your security, please wait %(minutes)d minute "
            "before trying again.",
            "Too many wrong codes. For your security, please wait %(minutes)d minutes "
            "before trying again.", minutes) % {"minutes": minutes},
            field="code", code="too_many_attempts")
        self.retry_after = retry_after


def _normalise(code: str) -> str:
    return "".join(ch for ch in (code or "").lower() if ch.isalnum())


def _backup_code_hash(user_id: int, code: str, secret: str | None = None) -> str:
    return salted_hmac("accounts.backup-code", f"{user_id}:{_normalise(code)}",
                       secret=secret, algorithm="sha256").hexdigest()


def _backup_code_hashes(user_id: int, code: str) -> list[str]:
    """The code's hash under SECRET_KEY and each of SECRET_KEY_FALLBACKS: codes issued
    before a key rotation still work."""
    return [_backup_code_hash(user_id, code, secret)
            for secret in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]]


def _new_backup_code() -> str:
    raw = "".join(secrets.choice(BACKUP_CODE_ALPHABET) for _ in range(BACKUP_CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def _notify(*, user: User, event: str, request: HttpRequest | None, **context) -> None:
    email_queue(template="second_factor_changed", to=user.email, user=user,
                context={"event": event, "ip": client_ip(request) or "", **context})


def _backup_codes_replace(user: User) -> list[str]:
    codes = [_new_backup_code() for _ in range(BACKUP_CODE_COUNT)]
    BackupCode.objects.filter(user=user).delete()
    BackupCode.objects.bulk_create(
        [BackupCode(user=user, code_hash=_backup_code_hash(user.pk, code)) for code in codes])
    security_page_changed(user_id=user.pk)
    return codes


def totp_enrolment_start(*, user: User) -> AuthenticatorApp:
    """The unconfirmed authenticator of an enrolment in progress (a new secret the first
    time, the same one when the page is opened again, so a scanned QR code stays good)."""
    device = AuthenticatorApp.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = AuthenticatorApp.new(user=user, name=_("Authenticator app"))
        device.save()
    return device


def totp_enrolment_confirm(*, user: User, device: AuthenticatorApp, code: str,
                           request: HttpRequest | None = None) -> list[str]:
    """Complete an enrolment with a first valid code.
    1. The code must come from this new secret (a wrong one is throttled like any).
    2. The device becomes confirmed; any other authenticator app of the account goes.
    3. Ten backup codes replace any earlier ones; returned to be shown once.
    4. Log and notify."""
    def check():
        with transaction.atomic():
            locked = AuthenticatorApp.objects.select_for_update().get(
                pk=device.pk, user=user, confirmed=False)
            return locked.verify_token(_normalise(code))

    _throttled(user, check, request=request, where="enrolment")
    with transaction.atomic():
        AuthenticatorApp.objects.filter(pk=device.pk).update(confirmed=True)
        AuthenticatorApp.objects.filter(user=user).exclude(pk=device.pk).delete()
        codes = _backup_codes_replace(user)
        security_log(user=user, action=SecurityEvent.Action.SECOND_FACTOR_ADDED,
                     request=request, factor="totp")
        _notify(user=user, event="added", request=request)
    return codes


def _throttled(user, check, *, request, where):
    """Count the attempt first (attempts at once cannot slip past the limit), refuse
    without checking past it, take it back when `check()` succeeds."""
    key = f"second-factor:{user.pk}"
    window = int(settings.AXES_COOLOFF_TIME.total_seconds())
    allowed, retry_after = rate_limit_hit(key, limit=settings.AXES_FAILURE_LIMIT, window=window)
    if not allowed:
        raise SecondFactorThrottled(retry_after)
    result = check()
    if result:
        rate_limit_undo(key, window=window)
        return result
    security_log(user=user, action=SecurityEvent.Action.SECOND_FACTOR_FAILED, request=request,
                 where=where)
    raise WrongSecondFactorCode(_("This code is not valid. Check your authenticator app "
                                  "or use a backup code."), field="code", code="wrong_code")


def second_factor_verify(*, user: User, code: str, request: HttpRequest | None = None,
                         where: str = "login", app: bool = True) -> AuthenticatorApp | BackupCode:
    """Check a code from the authenticator app (unless `app` is False) or an unused
    backup code; return what accepted it. A backup code is used up (conditional UPDATE),
    logged and notified. Raises WrongSecondFactorCode, or SecondFactorThrottled during
    the cool-off."""
    now = timezone.now()

    def check():
        with transaction.atomic():
            token = _normalise(code)
            # Locked: a time step already used is refused (`last_t`), and two
            # requests with the same code must see each other's step.
            for device in AuthenticatorApp.objects.select_for_update().filter(
                    user=user, confirmed=True):
                if app and token.isdigit() and device.verify_token(token):
                    return device
            wanted = _backup_code_hashes(user.pk, code)
            for backup in BackupCode.objects.filter(user=user, used_at=None):
                matches = [constant_time_compare(backup.code_hash, one) for one in wanted]
                if any(matches) and BackupCode.objects.filter(
                        pk=backup.pk, used_at=None).update(used_at=now):
                    backup.used_at = now
                    remaining = backup_codes_remaining(user=user)
                    security_log(user=user, action=SecurityEvent.Action.BACKUP_CODE_USED,
                                 request=request, where=where, remaining=remaining)
                    _notify(user=user, event="backup_code_used", request=request,
                            remaining=remaining)
                    return backup
            return None

    return _throttled(user, check, request=request, where=where)


def second_factor_enabled(*, user: User) -> bool:
    """Whether logging in takes a second step: a confirmed authenticator app or a
    security key."""
    return (AuthenticatorApp.objects.filter(user=user, confirmed=True).exists()
            or SecurityKey.objects.filter(user=user).exists())


def backup_codes_remaining(*, user: User) -> int:
    return BackupCode.objects.filter(user=user, used_at=None).count()


def backup_codes_regenerate(*, user: User, request: HttpRequest | None = None) -> list[str]:
    """Ten new codes (returned to be shown once) replace all the earlier ones."""
    with transaction.atomic():
        codes = _backup_codes_replace(user)
        security_log(user=user, action=SecurityEvent.Action.BACKUP_CODES_GENERATED,
                     request=request)
        _notify(user=user, event="backup_codes_generated", request=request)
    return codes


def second_factor_remove(*, user: User, request: HttpRequest | None = None,
                         actor: User | None = None, reason: str = "customer",
                         notify: bool = True) -> bool:
    """Remove the authenticator app, the security keys and the backup codes (the caller
    checked the password and a code, or staff approved a recovery, whose own emails say
    so: notify=False). Logs (and notifies) when there was one."""
    with transaction.atomic():
        had = second_factor_enabled(user=user)
        AuthenticatorApp.objects.filter(user=user).delete()
        BackupCode.objects.filter(user=user).delete()
        SecurityKey.objects.filter(user=user).delete()
        security_page_changed(user_id=user.pk)
        if not had:
            return False
        security_log(user=user, action=SecurityEvent.Action.SECOND_FACTOR_REMOVED,
                     request=request, actor=actor, reason=reason)
        if notify:
            _notify(user=user, event="removed", request=request, reason=reason)
    return True
