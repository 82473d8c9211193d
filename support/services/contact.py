"""The public contact form, for someone who cannot log in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation

from accounts.services.common import rate_limit
from notifications.services import email_queue
from portal.requestinfo import client_ip
from portal.text import normalise_email
from support.models import ContactMessage

if TYPE_CHECKING:
    from django.http import HttpRequest

    from accounts.models import User

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


def contact_message_answer(*, contact: ContactMessage, staff_user: User, body: str) -> None:
    """Email the agent's answer to the address the visitor typed, in the language of the
    page they wrote from, and mark the message handled by this agent. The address is
    not proven to be the account's: the answer names no account (only the NIC handle
    as typed) and carries no link."""
    with transaction.atomic():
        email_queue(template="contact_answer", to=contact.email, user=None,
                    language=contact.language or settings.LANGUAGE_CODE,
                    context={"nic_handle_given": contact.nic_handle, "answer": body})
        ContactMessage.objects.filter(pk=contact.pk).update(
            handled_at=timezone.now(), handled_by=staff_user)
