"""The account's security log."""

import logging

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.db import ChoiceLabels

log = logging.getLogger(__name__)


class SecurityEvent(ChoiceLabels, models.Model):
    """The account's security log: who did what to it, from where. Never edited."""

    class Action(models.TextChoices):
        SIGNUP = "signup", _("Account created")
        EMAIL_CONFIRMED = "email_confirmed", _("Email address confirmed")
        LOGIN = "login", _("Logged in")
        LOGIN_FAILED = "login_failed", _("Failed login")
        PASSWORD_CHANGED = "password_changed", _("Password changed")
        PASSWORD_RESET_REQUESTED = "password_reset_requested", _("Password reset requested")
        PASSWORD_RESET = "password_reset", _("Password reset")
        PROFILE_CHANGED = "profile_changed", _("Profile changed")
        EMAIL_CHANGE_REQUESTED = "email_change_requested", _("Email change requested")
        EMAIL_CHANGE_CODE_SENT = "email_change_code_sent", _("Email change code sent")
        EMAIL_CHANGE_CODE_FAILED = "email_change_code_failed", _("Wrong email change code")
        EMAIL_CHANGE_NEW_CONFIRMED = "email_change_new_confirmed", _("New email address confirmed")
        EMAIL_CHANGE_REFUSED = "email_change_refused", _("Email change refused")
        EMAIL_CHANGE_ABORTED = "email_change_aborted", _("Email change aborted")
        EMAIL_CHANGED = "email_changed", _("Email address changed")
        RECOVERY_REQUESTED = "recovery_requested", _("Account recovery requested")
        RECOVERY_CANCELLED = "recovery_cancelled", _("Account recovery cancelled")
        RECOVERY_APPROVED = "recovery_approved", _("Account recovery approved")
        RECOVERY_REFUSED = "recovery_refused", _("Account recovery refused")
        SESSIONS_ENDED = "sessions_ended", _("Other sessions ended")
        STAFF_ACTION = "staff_action", _("Action by support staff")
        CONTACT_CHANGE_REQUESTED = "contact_change_requested", _("Contact change requested")
        CONTACT_CHANGE_LINKS_SENT = "contact_change_links_sent", _("Contact change links sent")
        CONTACT_CHANGE_ACCEPTED = "contact_change_accepted", _("Contact change accepted")
        CONTACT_CHANGE_REFUSED = "contact_change_refused", _("Contact change refused")
        CONTACT_CHANGE_APPLIED = "contact_change_applied", _("Contact change applied")
        CONTACT_CHANGE_CANCELLED = "contact_change_cancelled", _("Contact change cancelled")
        CONTACT_CHANGE_EXPIRED = "contact_change_expired", _("Contact change expired")
        SECOND_FACTOR_ADDED = "second_factor_added", _("Two-step verification turned on")
        SECOND_FACTOR_REMOVED = "second_factor_removed", _("Two-step verification turned off")
        SECOND_FACTOR_FAILED = "second_factor_failed", _("Wrong two-step verification code")
        BACKUP_CODES_GENERATED = "backup_codes_generated", _("New backup codes generated")
        BACKUP_CODE_USED = "backup_code_used", _("Backup code used")
        SESSION_ENDED = "session_ended", _("Session ended")

    # Each action's label, looked up by value: get_action_display() builds the choices
    # anew and translates every label to find one, for each row of the security log.
    ACTION_LABELS = dict(Action.choices)
    # Adding or removing one factor names it (the detail's "factor"); turning two-step
    # verification off altogether, or rows logged before factors were named, do not.
    FACTOR_LABELS = {
        (Action.SECOND_FACTOR_ADDED, "totp"): _("Authenticator app added"),
        (Action.SECOND_FACTOR_ADDED, "security_key"): _("Security key added"),
        (Action.SECOND_FACTOR_REMOVED, "totp"): _("Authenticator app removed"),
        (Action.SECOND_FACTOR_REMOVED, "security_key"): _("Security key removed"),
    }

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="security_events",
                             verbose_name=_("customer"))
    action = models.CharField(_("action"), max_length=40, choices=Action.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", verbose_name=_("done by"))
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("security event")
        verbose_name_plural = _("security log")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "-created_at"], name="security_user_time_idx")]

    def __str__(self):
        return f"{self.user_id} {self.action} {self.created_at:%Y-%m-%d %H:%M}"

    def action_label(self):
        """What happened, in the active language."""
        factor = self.detail.get("factor") if isinstance(self.detail, dict) else None
        label = self.FACTOR_LABELS.get((self.action, factor)) if factor else None
        return label or self.ACTION_LABELS.get(self.action, self.action)
