"""Support requests: a customer's question under their NIC handle, the conversation
with staff (internal notes included, which the customer never sees), its attachments
and the log of what staff did."""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models import Invoice, Service
from portal.db import ChoiceLabels
from portal.text import no_control_characters

REOPEN_WINDOW = timedelta(days=7)
AUTO_CLOSE_AFTER = timedelta(days=14)


class Category(models.TextChoices):
    BILLING = "billing", _("Billing")
    TECHNICAL = "technical", _("Technical")
    ACCOUNT = "account", _("Account")
    OTHER = "other", _("Other")


class SupportRequest(ChoiceLabels, models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        WAITING = "waiting", _("Waiting for the customer")
        CLOSED = "closed", _("Closed")

    number = models.CharField(_("number"), max_length=16, unique=True, editable=False)
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="support_requests", verbose_name=_("customer"))
    # The customer's NIC handle when the request was opened (handles never change).
    nic_handle = models.CharField(_("customer ID (NIC handle)"), max_length=32, editable=False)
    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    service = models.ForeignKey(Service, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+", verbose_name=_("service"))
    invoice = models.ForeignKey(Invoice, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+", verbose_name=_("invoice"))
    subject = models.CharField(_("subject"), max_length=150, validators=[no_control_characters])
    status = models.CharField(_("status"), max_length=8, choices=Status.choices,
                              default=Status.OPEN)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                 blank=True, related_name="+", verbose_name=_("assigned to"),
                                 limit_choices_to={"is_staff": True})
    created_at = models.DateTimeField(_("opened"), default=timezone.now)
    # When the status last changed: the start of the wait (open: for staff; waiting: for
    # the customer) and, once closed, the start of the reopening window.
    status_changed_at = models.DateTimeField(_("status since"), default=timezone.now)
    last_message_at = models.DateTimeField(_("last message"), default=timezone.now)

    class Meta:
        verbose_name = _("support request")
        verbose_name_plural = _("support requests")
        indexes = [
            models.Index(fields=["customer", "status", "-last_message_at"],
                         name="support_customer_idx"),
            # The staff queue (by waiting time) and the 14-day auto-close sweep.
            models.Index(fields=["status", "status_changed_at"], name="support_queue_idx"),
        ]

    def __str__(self):
        return f"{self.number} {self.subject}"

    @staticmethod
    def number_for(pk):
        return f"SR{pk:06d}"

    @property
    def is_closed(self):
        return self.status == self.Status.CLOSED

    def reopen_until(self):
        return self.status_changed_at + REOPEN_WINDOW if self.is_closed else None

    def may_be_reopened(self, now=None):
        return self.is_closed and (now or timezone.now()) < self.reopen_until()


class SupportMessage(models.Model):
    class Kind(models.TextChoices):
        CUSTOMER = "customer", _("From the customer")
        REPLY = "reply", _("Reply from support")
        NOTE = "note", _("Internal note")

    request = models.ForeignKey(SupportRequest, on_delete=models.CASCADE,
                                related_name="messages", verbose_name=_("request"))
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="+", verbose_name=_("author"))
    body = models.TextField(_("message"))
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["request", "created_at"], name="support_message_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d %H:%M}"


def attachment_path(attachment, filename):
    """A random name under MEDIA_ROOT/support/: nothing the customer typed reaches the
    file system."""
    return f"support/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


class SupportAttachment(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    message = models.ForeignKey(SupportMessage, on_delete=models.CASCADE,
                                related_name="attachments", verbose_name=_("message"))
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=200)
    # A safe name for the download (support.attachments.attachment_safe_name).
    name = models.CharField(_("file name"), max_length=100)
    content_type = models.CharField(_("type"), max_length=40)
    size = models.PositiveIntegerField(_("size (bytes)"))

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["pk"]

    def __str__(self):
        return self.name


class SupportEvent(models.Model):
    """What happened to a request and who did it: replies, notes, status changes and
    assignments. Never edited."""

    class Action(models.TextChoices):
        OPENED = "opened", _("Opened")
        CUSTOMER_REPLIED = "customer_replied", _("Customer replied")
        REPLIED = "replied", _("Replied")
        NOTE = "note", _("Internal note")
        STATUS = "status", _("Status changed")
        ASSIGNED = "assigned", _("Assigned")
        REOPENED = "reopened", _("Reopened")
        AUTO_CLOSED = "auto_closed", _("Closed automatically")

    request = models.ForeignKey(SupportRequest, on_delete=models.CASCADE, related_name="events",
                                verbose_name=_("request"))
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+", verbose_name=_("done by"))
    # The actor's name at the time, so that the log stays readable.
    actor_name = models.CharField(_("name"), max_length=201, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("support log entry")
        verbose_name_plural = _("support log")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.get_action_display()} {self.actor_name}"


class CannedAnswer(models.Model):
    title = models.CharField(_("title"), max_length=100, unique=True)
    body = models.TextField(_("answer"))

    class Meta:
        verbose_name = _("canned answer")
        verbose_name_plural = _("canned answers")
        ordering = ["title"]

    def __str__(self):
        return self.title


class ContactMessage(models.Model):
    """The public contact form, for someone who cannot log in. The NIC handle is as
    typed: nothing is looked up while the visitor waits (no page tells whether an
    account exists); staff find the account in admin."""

    nic_handle = models.CharField(_("customer ID (NIC handle) given"), max_length=32)
    email = models.EmailField(_("reply to"), max_length=254)
    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    message = models.TextField(_("message"))
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    created_at = models.DateTimeField(_("received"), default=timezone.now)
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("handled by"))

    class Meta:
        verbose_name = _("contact message")
        verbose_name_plural = _("contact messages")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(nic_handle=""), name="contact_has_nic_handle"),
        ]

    def __str__(self):
        return f"{self.nic_handle} {self.created_at:%Y-%m-%d %H:%M}"
