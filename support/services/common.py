"""What the support flows share: the refusal, the lock, the log and attachments."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import timezone

from support.attachments import attachment_safe_name, attachments_check
from support.models import (
    SupportAttachment,
    SupportEvent,
    SupportMessage,
    SupportRequest,
)

if TYPE_CHECKING:
    from datetime import datetime

    from accounts.models import User


def request_locked(support_request: SupportRequest) -> SupportRequest:
    """The request's row, locked until the transaction ends, as it is now."""
    return SupportRequest.objects.select_for_update().get(pk=support_request.pk)


def event_log(*, support_request: SupportRequest, action: str, actor: User | None,
              now: datetime | None = None, **detail) -> SupportEvent:
    return SupportEvent.objects.create(
        request=support_request, action=action, actor=actor,
        actor_name=f"{actor.get_full_name()} ({actor.nic_handle})" if actor else "",
        detail=detail, created_at=now or timezone.now())


def message_add(*, support_request: SupportRequest, kind: str, author: User, body: str,
                attachments=(), now: datetime) -> SupportMessage:
    """A message with its attachments (checked by content: AttachmentRefused)."""
    checked = attachments_check(list(attachments))
    message = SupportMessage.objects.create(request=support_request, kind=kind, author=author,
                                            body=body, created_at=now)
    for upload, content_type in checked:
        attachment = SupportAttachment(message=message, content_type=content_type,
                                       size=upload.size,
                                       name=attachment_safe_name(upload.name, content_type))
        attachment.file.save("upload", upload, save=False)
        attachment.save()
    return message


def status_set(support_request: SupportRequest, status: str, *, now: datetime) -> bool:
    """Change the locked row's status (and when it changed); False when it already was."""
    if support_request.status == status:
        return False
    support_request.status = status
    support_request.status_changed_at = now
    return True
