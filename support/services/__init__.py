"""Support workflows, a module per flow: the customer's side (requests), staff's side
(staff), the 14-day sweep (sweep) and the public contact form (contact)."""

from support.services.contact import (  # noqa: F401
    CONTACT_LIMIT_PER_IP,
    contact_message_answer,
    contact_message_create,
    contact_rate_limit,
)
from support.services.requests import (  # noqa: F401
    OPEN_LIMIT,
    REPLY_LIMIT,
    SupportRefused,
    support_request_close,
    support_request_open,
    support_request_reopen,
    support_request_reply,
)
from support.services.staff import (  # noqa: F401
    support_request_assign,
    support_request_note,
    support_request_set_status,
    support_request_staff_reply,
)
from support.services.sweep import (  # noqa: F401
    AUTO_CLOSE_BATCH,
    support_requests_auto_close,
)
