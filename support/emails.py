"""The kinds of email the support app sends (see notifications.kinds). None carries a
secret: they link to the request's page, which needs a login."""

from notifications.kinds import EmailKind, email_kinds_declare

email_kinds_declare(
    EmailKind("support_reply"),
    EmailKind("support_auto_closed"),
    EmailKind("contact_answer"),
)
