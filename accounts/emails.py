"""The kinds of email the accounts app sends (see notifications.kinds)."""

from notifications.kinds import EmailKind, email_kinds_declare

email_kinds_declare(
    EmailKind("account_created", secrets={"confirm_url"}),
    EmailKind("signup_address_taken", security=True),
    EmailKind("login_notification", switch="login_notifications"),
    EmailKind("password_reset", secrets={"reset_url"}, security=True),
    EmailKind("password_changed", security=True),
    EmailKind("email_change_code", secrets={"code", "refuse_url"}, security=True),
    EmailKind("email_change_confirm_new", secrets={"confirm_url"}, security=True),
    EmailKind("email_change_address_taken", security=True),
    EmailKind("email_change_cancelled", security=True),
    EmailKind("email_changed", security=True),
    EmailKind("recovery_notice", secrets={"cancel_url"}, security=True),
    EmailKind("recovery_received", security=True),
    EmailKind("recovery_approved", secrets={"reset_url"}, security=True),
    EmailKind("recovery_refused", security=True),
    EmailKind("staff_action", security=True),
    EmailKind("second_factor_changed", security=True),
)
