"""The kinds of email the billing app sends (see notifications.kinds)."""

from notifications.kinds import EmailKind, email_kinds_declare

email_kinds_declare(
    EmailKind("order_confirmed"),
    EmailKind("renewal_invoice"),
    EmailKind("service_delivered"),
)
