import uuid

from accounts.models import SecurityEvent, User
from portal.requestinfo import client_ip, user_agent


def security_log(*, user, action, request=None, actor=None, ip_address=None, user_agent_text="",
                 **detail):
    """Append one line to the account's security log. `detail` holds field names and
    facts, never secrets (no passwords, codes or tokens)."""
    security_page_changed(user_id=user.pk)
    return SecurityEvent.objects.create(
        user=user, action=action, actor=actor,
        ip_address=client_ip(request) if request is not None else ip_address,
        user_agent=user_agent(request) if request is not None else user_agent_text,
        detail=detail,
    )


def security_page_changed(*, user_id: int) -> None:
    """Give the account's security page a new version, in the caller's transaction: what
    it cached of the log and the second factor under the old one is never read again
    (templates/accounts/security.html). Call it with every change of a security log
    line, an authenticator app, a security key or a backup code."""
    User.objects.filter(pk=user_id).update(security_version=uuid.uuid4())
