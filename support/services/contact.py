"""The public contact form, for someone who cannot log in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import translation

from accounts.services.common import rate_limit
from portal.requestinfo import client_ip
from portal.text import normalise_email
from support.models import ContactMessage

if TYPE_CHECKING:
    from django.http import HttpRequest

CONTACT_LIMIT_PER_IP = (5, 3600)


def contact_rate_limit(*, request: HttpRequest | None) -> None:
    """Counted per IP before the form is read. Raises RateLimited."""
    rate_limit(f"support-contact-ip:{client_ip(request)}", CONTACT_LIMIT_PER_IP)


def contact_message_create(*, nic_handle: str, email: str, category: str, message: str,
                           request: HttpRequest | None = None) -> ContactMessage:
    """One row, nothing looked up: the answer is the same whether or not the NIC handle
    exists. Staff find the account from admin."""
    return ContactMessage.objects.create(
        nic_handle=nic_handle.strip()[:32], email=normalise_email(email), category=category,
        message=message, ip_address=client_ip(request) if request is not None else None,
        language=translation.get_language() or settings.LANGUAGE_CODE)
