"""The current password, asked again before a sensitive change (the primary email, the
password). Wrong answers are throttled per account like logins: AXES_FAILURE_LIMIT
failures, then nothing is checked, not even the right password, until the cool-off
(AXES_COOLOFF_TIME) ends. Otherwise a stolen session could guess the password at will."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import SecurityEvent
from accounts.security import security_log
from portal.ratelimit import rate_limit_hit, rate_limit_undo

INCORRECT = _("Your password is not correct.")


def current_password_check(*, user, password, request=None, where="", incorrect=INCORRECT):
    """Raise ValidationError (code `password_incorrect`, or `too_many_attempts` while the
    account cools off) unless `password` is the user's password.

    1. Count the attempt first, so that attempts made at once cannot slip past the limit.
    2. Over the limit: refuse without checking.
    3. The right password: take the attempt back (only failures count).
    4. A wrong one: log it to the account's security log."""
    key = f"current-password:{user.pk}"
    window = int(settings.AXES_COOLOFF_TIME.total_seconds())
    allowed, retry_after = rate_limit_hit(key, limit=settings.AXES_FAILURE_LIMIT, window=window)
    if not allowed:
        minutes = max(1, -(-retry_after // 60))
        raise ValidationError(ngettext(
            "Too many wrong passwords. For your security, please wait %(minutes)d minute "
            "before trying again.",
            "Too many wrong passwords. For your security, please wait %(minutes)d minutes "
            "before trying again.", minutes) % {"minutes": minutes}, code="too_many_attempts")
    if user.check_password(password):
        rate_limit_undo(key, window=window)
        return
    security_log(user=user, action=SecurityEvent.Action.LOGIN_FAILED, request=request,
                 reason="wrong current password", where=where)
    raise ValidationError(incorrect, code="password_incorrect")
