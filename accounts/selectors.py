"""Reads that the accounts pages show, ready for their templates (no query left to run
in a template)."""

from __future__ import annotations

from django.core.paginator import Page, Paginator

from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import BackupCode, EmailChangeRequest, User

SECURITY_EVENTS_PER_PAGE = 20


def email_change_pending(*, user: User) -> EmailChangeRequest | None:
    """The customer's pending email change, if any (at most one: a database rule)."""
    return EmailChangeRequest.objects.filter(user=user,
                                             state=EmailChangeRequest.State.TODO).first()


def security_events(*, user: User, page: str | int | None) -> Page:
    """One page of the customer's security log, newest first, with who did each."""
    events = user.security_events.select_related("actor")
    result = Paginator(events, SECURITY_EVENTS_PER_PAGE).get_page(page)
    result.object_list = list(result.object_list)
    return result


def second_factor_status(*, user: User) -> dict:
    """What the security page says about the second factor: the authenticator app (when
    added) and how many backup codes remain."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return {
        "enabled": device is not None,
        "totp_added_at": device.created_at if device else None,
        "backup_codes_remaining": BackupCode.objects.filter(user=user, used_at=None).count(),
    }
