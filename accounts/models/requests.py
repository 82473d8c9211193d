"""What a customer asks that takes more than one step: an email change, a recovery
through support, a password reset."""

import logging

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

log = logging.getLogger(__name__)

class EmailChangeRequest(models.Model):
    """A change of primary email (OVHcloud's states: todo, done, refused, aborted).

    The code goes to the current address; the new address proves it is reachable through
    a link. Nobody refusing within 24 hours applies the change (see
    services.email_changes_apply_due)."""

    class State(models.TextChoices):
        TODO = "todo", _("Pending")
        DONE = "done", _("Applied")
        REFUSED = "refused", _("Refused")
        ABORTED = "aborted", _("Aborted")

    class Reason(models.TextChoices):
        """Why a request was closed (or how it was applied)."""
        REPLACED = "replaced", _("Replaced by a new request")
        CANCELLED = "cancelled", _("Cancelled by the customer")
        REFUSED = "refused", _("Refused from the current address")
        WRONG_CODES = "wrong_codes", _("Too many wrong codes")
        ADDRESS_TAKEN = "address_taken", _("The new address is now used by another account")
        UNCONFIRMED = "unconfirmed", _("The new address was never confirmed")
        RECOVERY = "recovery", _("Account recovery approved")
        SUPPORT_ABORTED = "support_aborted", _("Aborted by support")
        CODE = "code", _("Applied with the verification code")
        NO_REFUSAL = "no_refusal", _("Applied after 24 hours without refusal")
        SUPPORT_APPLIED = "support_applied", _("Applied by support")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_changes",
                             verbose_name=_("customer"))
    old_email = models.EmailField(_("current address"), max_length=254)
    new_email = models.EmailField(_("new address"), max_length=254)
    state = models.CharField(_("state"), max_length=8, choices=State.choices,
                             default=State.TODO)
    code_hash = models.CharField(max_length=128, editable=False)
    code_sent_at = models.DateTimeField(_("code sent at"), default=timezone.now)
    codes_sent = models.PositiveSmallIntegerField(_("codes sent"), default=1)
    wrong_codes = models.PositiveSmallIntegerField(_("wrong codes"), default=0)
    new_email_confirmed_at = models.DateTimeField(_("new address confirmed at"), null=True,
                                                  blank=True)
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    due_at = models.DateTimeField(_("applies automatically at"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=32, choices=Reason.choices, blank=True)
    # What support wrote when they aborted or applied the request (shown to the customer).
    staff_note = models.TextField(_("note from support"), blank=True)

    class Meta:
        verbose_name = _("email change request")
        verbose_name_plural = _("email change requests")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["user"], condition=models.Q(state="todo"),
                                    name="email_change_one_pending_per_user"),
        ]
        indexes = [
            # The 24-hour sweep: pending requests by due time.
            models.Index(fields=["due_at"], condition=models.Q(state="todo"),
                         name="email_change_due_idx"),
            # The 7-day clean-up of never-confirmed addresses.
            models.Index(fields=["created_at"],
                         condition=models.Q(state="todo", new_email_confirmed_at__isnull=True),
                         name="email_change_unconfirmed_idx"),
        ]

    def __str__(self):
        return f"{self.old_email} → {self.new_email} ({self.state})"

    @property
    def is_pending(self):
        return self.state == self.State.TODO


class RecoveryRequest(models.Model):
    """"I can no longer access my email": a customer asks support to move the account to
    a new address. Staff decide; the current address can cancel it.

    Every request is written as it comes, whether or not its NIC handle exists, and a
    worker looks the account up (services.recovery_request_process), so that the answer
    and its timing are the same either way. A request that matched no account keeps
    `user` empty and is not shown to staff."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REFUSED = "refused", _("Refused")
        CANCELLED = "cancelled", _("Cancelled by the current address")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="recovery_requests", verbose_name=_("customer"))
    nic_handle = models.CharField(_("customer ID entered"), max_length=32, blank=True)
    old_email = models.EmailField(_("address at the time"), max_length=254, blank=True)
    new_email = models.EmailField(_("new address"), max_length=254)
    message = models.TextField(_("message"), max_length=2000)
    state = models.CharField(_("state"), max_length=10, choices=State.choices,
                             default=State.PENDING)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    # The language of the page the request came from: the worker writes to the new
    # address in it.
    language = models.CharField(_("language"), max_length=8, blank=True)
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("decided by"))
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("account recovery request")
        verbose_name_plural = _("account recovery requests")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["state", "created_at"], name="recovery_state_idx"),
            # The re-queue job: requests no worker has processed yet.
            models.Index(fields=["created_at"], condition=models.Q(processed_at=None),
                         name="recovery_unprocessed_idx"),
        ]

    def __str__(self):
        return f"{self.user_id}: {self.old_email} → {self.new_email} ({self.state})"

    @property
    def is_pending(self):
        return self.state == self.State.PENDING


class PasswordResetAttempt(models.Model):
    """Every "Forgotten password?" request, whether or not it matches an account. The web
    request only writes this row; a worker looks the account up and sends the link, so
    the response takes the same time either way (no timing tells them apart)."""

    login = models.CharField(_("login entered"), max_length=254)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+", verbose_name=_("customer"))
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("password reset request")
        verbose_name_plural = _("password reset requests")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["created_at"], condition=models.Q(processed_at=None),
                                name="reset_attempt_unprocessed_idx")]

    def __str__(self):
        return f"{self.login} {self.created_at:%Y-%m-%d %H:%M}"
