"""The kinds of email the billing app sends (see notifications.kinds)."""

from notifications.kinds import EmailKind, email_kinds_declare

email_kinds_declare(
    EmailKind("order_confirmed"),
    EmailKind("renewal_invoice"),
    EmailKind("service_delivered"),
    # An unpaid invoice at due + 3 and + 10 days, its services suspended at + 15.
    EmailKind("invoice_reminder"),
    EmailKind("services_suspended"),
    EmailKind("credit_note_issued"),
    # Each account's own single-use link to accept or refuse a contact change.
    EmailKind("contact_change_request", secrets={"answer_url"}, security=True),
    EmailKind("contact_change_closed", security=True),
)
