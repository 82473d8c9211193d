"""Who is the administrative, technical and billing contact of a service."""


from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from billing.models.catalogue import ContactRole, Service
from portal.db import ChoiceLabels


class ContactChangeRequest(ChoiceLabels, models.Model):
    """Moving one or more roles of a service from the account holding them (`holder`) to
    another NIC handle (OVHcloud's contactChange). Both accounts accept, each with its
    own single-use link or from the contacts page; only the hashes of the links are
    stored. The NIC handle is kept as typed; `target` is filled by a worker, so that the
    web request does the same work whether or not the handle exists."""

    class State(models.TextChoices):
        TODO = "todo", _("Being prepared")
        VALIDATING = "validatingByCustomers", _("Awaiting both accounts")
        DONE = "done", _("Done")
        REFUSED = "refused", _("Refused")
        ABORTED = "aborted", _("Cancelled")
        EXPIRED = "expired", _("Expired")

    class Reason(models.TextChoices):
        NONE = "", _("—")
        HOLDER_REFUSED = "holder_refused", _("Refused by the current contact")
        TARGET_REFUSED = "target_refused", _("Refused by the new contact")
        OVERDUE = "overdue", _("An account has an overdue invoice")
        CANCELLED = "cancelled", _("Cancelled by the requester")
        STAFF = "staff", _("Cancelled by support staff")
        TIMEOUT = "timeout", _("Not accepted by both accounts within 7 days")

    OPEN_STATES = (State.TODO, State.VALIDATING)

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="contact_changes",
                                verbose_name=_("service"))
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+", verbose_name=_("requested by"))
    holder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="contact_changes_held",
                               verbose_name=_("current contact"))
    target_nic_handle = models.CharField(_("new contact (as typed)"), max_length=32)
    target = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                               blank=True, related_name="contact_changes_targeted",
                               verbose_name=_("new contact"))
    move_admin = models.BooleanField(_("administrator"), default=False)
    move_tech = models.BooleanField(_("technical"), default=False)
    move_billing = models.BooleanField(_("billing"), default=False)
    state = models.CharField(_("state"), max_length=24, choices=State.choices,
                             default=State.TODO)
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices, blank=True)
    created_at = models.DateTimeField(_("requested"))
    expires_at = models.DateTimeField(_("expires"))
    processed_at = models.DateTimeField(_("prepared"), null=True, blank=True, editable=False)
    holder_accepted_at = models.DateTimeField(_("accepted by the current contact"), null=True,
                                              blank=True)
    target_accepted_at = models.DateTimeField(_("accepted by the new contact"), null=True,
                                              blank=True)
    holder_token_hash = models.CharField(max_length=64, blank=True, editable=False,
                                         db_index=True)
    target_token_hash = models.CharField(max_length=64, blank=True, editable=False,
                                         db_index=True)
    links_sent = models.PositiveSmallIntegerField(_("links sent"), default=0)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                  blank=True, related_name="+", verbose_name=_("closed by"))

    class Meta:
        verbose_name = _("contact change request")
        verbose_name_plural = _("contact change requests")
        constraints = [
            models.UniqueConstraint(fields=["service"], condition=Q(state__in=["todo", "validatingByCustomers"]),
                                    name="contact_change_one_open_per_service"),
            models.CheckConstraint(
                condition=Q(move_admin=True) | Q(move_tech=True) | Q(move_billing=True),
                name="contact_change_moves_a_role"),
        ]
        indexes = [models.Index(fields=["state", "expires_at"], name="contact_change_due_idx")]

    def __str__(self):
        return _("Contact change #%(id)s") % {"id": self.pk}

    @property
    def is_pending(self):
        return self.state in self.OPEN_STATES

    @property
    def roles(self) -> list[str]:
        return [role for role in ContactRole
                if getattr(self, f"move_{role.value}")]

    def role_labels(self) -> list[str]:
        return [ContactRole(role).label for role in self.roles]


