from typing import Any, Protocol

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from notifications.secrets import secrets_mask
from portal.db import ChoiceLabels


class Recipient(Protocol):
    """What the outbox reads of the customer an email goes to (settings.AUTH_USER_MODEL),
    without importing the app that defines it. A kind's `switch` names another field."""

    pk: Any
    nic_handle: str
    language: str


class OutboundEmail(ChoiceLabels, models.Model):
    """One email, written in the same transaction as the event that causes it.

    Delivery claims the row (queued -> sending) before talking to SMTP, so two workers
    never send the same row; the beat job re-queues rows nobody picked up."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="emails", verbose_name=_("customer"),
    )
    kind = models.CharField(_("kind"), max_length=64)
    to_address = models.EmailField(_("to"), max_length=254)
    language = models.CharField(_("language"), max_length=8)
    subject = models.CharField(_("subject"), max_length=255)
    body_text = models.TextField(_("text body"))
    body_html = models.TextField(_("HTML body"), blank=True)
    # Rows queued in bulk are rendered by the worker: until then `rendered_at` is empty,
    # so are the subject and bodies, and this holds the template's variables (JSON).
    # Every other row is rendered when it is written.
    context = models.JSONField(_("template variables"), default=dict, blank=True)
    rendered_at = models.DateTimeField(_("rendered"), null=True, blank=True,
                                       default=timezone.now)
    # The codes and links this email carries, sealed (notifications.secrets) until the
    # worker sends it, then wiped. The subject and bodies above hold markers in their
    # place: nothing stored here grants access once the email is sent.
    sealed_secrets = models.TextField(blank=True, editable=False)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("email")
        verbose_name_plural = _("emails")
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due_idx"),
            models.Index(fields=["user", "-created_at"], name="outbox_user_history_idx"),
        ]

    def __str__(self):
        return f"{self.kind} to {self.to_address} ({self.status})"

    @property
    def is_rendered(self):
        return self.rendered_at is not None

    @staticmethod
    def secret_mask():
        return "•••••••• (%s)" % gettext("only in your mailbox")

    @property
    def shown_text(self):
        """The text body as the history and the admin show it: secrets masked."""
        return secrets_mask(self.body_text, self.secret_mask())

    @property
    def shown_html(self):
        return secrets_mask(self.body_html, escape(self.secret_mask()))

    @property
    def message_id(self):
        """Stable across retries, so a receiving server can spot a duplicate."""
        domain = settings.PORTAL_BASE_URL.split("//", 1)[-1].split("/", 1)[0].split(":", 1)[0]
        return f"<outbox-{self.pk}@{domain or 'portal'}>"
