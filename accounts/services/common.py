"""What several flows share: the refusals they raise (each a portal.errors.DomainError,
which views put on their form) and the rate limits."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal.errors import DomainError
from portal.ratelimit import rate_limit_hit

if TYPE_CHECKING:
    from accounts.models import User



class EmailChangeError(DomainError):
    """A step of an email change or recovery that cannot be done; the message is for the
    person who asked."""


class RateLimited(DomainError):
    """Too many attempts; `retry_after` seconds until the window ends."""

    def __init__(self, retry_after: int):
        minutes = max(1, -(-retry_after // 60))
        super().__init__(ngettext(
            "Too many requests. Please try again in %(minutes)d minute.",
            "Too many requests. Please try again in %(minutes)d minutes.", minutes,
        ) % {"minutes": minutes}, code="rate_limited")
        self.retry_after = retry_after


class StaffActionRefused(DomainError):
    """A member of staff may not act on this account; the message is for them."""


def rate_limit(key: str, rule: tuple[int, int]) -> None:
    """Count one attempt for `key` under `rule` (limit, window in seconds); raise
    RateLimited past the limit."""
    limit, window = rule
    allowed, retry_after = rate_limit_hit(key, limit=limit, window=window)
    if not allowed:
        raise RateLimited(retry_after)


def staff_may_manage(*, user: User, staff_user: User) -> None:
    """Only a superuser acts on a staff or superuser account (User.may_be_managed_by)."""
    if not user.may_be_managed_by(staff_user):
        raise StaffActionRefused(_("Only a superuser may act on a staff account."))
