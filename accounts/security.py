from accounts.models import SecurityEvent
from portal.requestinfo import client_ip, user_agent


def security_log(*, user, action, request=None, actor=None, ip_address=None, user_agent_text="",
                 **detail):
    """Append one line to the account's security log. `detail` holds field names and
    facts, never secrets (no passwords, codes or tokens)."""
    return SecurityEvent.objects.create(
        user=user, action=action, actor=actor,
        ip_address=client_ip(request) if request is not None else ip_address,
        user_agent=user_agent(request) if request is not None else user_agent_text,
        detail=detail,
    )
