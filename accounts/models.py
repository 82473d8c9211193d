import logging
import uuid

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from accounts.nic import nic_handle_candidate
from portal.text import no_control_characters, normalise_email

log = logging.getLogger(__name__)


class LegalForm(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual")
    CORPORATION = "corporation", _("Corporation")
    ASSOCIATION = "association", _("Association")
    ADMINISTRATION = "administration", _("Public administration")
    PERSONAL_CORPORATION = "personalcorporation", _("Sole proprietorship")
    OTHER = "other", _("Other")


class UserManager(BaseUserManager):
    def get_by_natural_key(self, username):
        return self.get_by_login(username)

    def get_by_login(self, login):
        """The account whose NIC handle or email is `login` (see filter_by_login)."""
        return self.filter_by_login(login).get()

    def filter_by_login(self, login):
        """The account (none or one) whose NIC handle or email is `login`, both compared in
        normal form: any case, fullwidth letters as the plain ones. A login with an
        invisible character matches nothing."""
        try:
            # A NIC handle has no "@": it gets NFKC, the invisible-character rule and case.
            login = normalise_email(login)
        except ValidationError:
            return self.none()
        field = "email__lower" if "@" in login else "nic_handle__lower"
        return self.filter(**{field: login})

    def email_in_use(self, address, *, exclude=None):
        """Whether an account (other than `exclude`) has this address, in its normal form."""
        accounts = self.filter(email__lower=normalise_email(address))
        return accounts.exclude(pk=exclude.pk).exists() if exclude else accounts.exists()

    def create_superuser(self, nic_handle=None, email=None, password=None, **extra):
        """For `createsuperuser`: staff accounts get a NIC handle like everyone else, and
        the first line of their security log."""
        extra.setdefault("first_name", "Support")
        extra.setdefault("last_name", "Staff")
        with transaction.atomic():
            handle = IssuedNicHandle.objects.claim(
                first_name=extra["first_name"], last_name=extra["last_name"],
                handle=nic_handle or None)
            user = self.model(nic_handle=handle, email=normalise_email(email), is_staff=True,
                              is_superuser=True, **extra)
            user.set_password(password)
            user.save()
            SecurityEvent.objects.create(user=user, action=SecurityEvent.Action.SIGNUP,
                                         detail={"how": "createsuperuser"})
        return user


class User(AbstractBaseUser, PermissionsMixin):
    nic_handle = models.CharField(
        _("customer ID (NIC handle)"), max_length=32, unique=True, editable=False
    )
    email = models.EmailField(_("email address"), max_length=254)
    spare_email = models.EmailField(_("spare email address"), max_length=254, blank=True)
    first_name = models.CharField(_("first name"), max_length=100,
                                  validators=[no_control_characters])
    last_name = models.CharField(_("last name"), max_length=100,
                                 validators=[no_control_characters])
    legal_form = models.CharField(
        _("legal form"), max_length=32, choices=LegalForm.choices, default=LegalForm.INDIVIDUAL
    )
    organisation = models.CharField(_("organisation"), max_length=200, blank=True,
                                    validators=[no_control_characters])
    address = models.CharField(_("address"), max_length=255, blank=True,
                               validators=[no_control_characters])
    city = models.CharField(_("city"), max_length=100, blank=True,
                            validators=[no_control_characters])
    zip = models.CharField(_("postcode"), max_length=20, blank=True,
                           validators=[no_control_characters])
    country = CountryField(_("country"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default="en"
    )
    login_notifications = models.BooleanField(
        _("email me at each login"), default=True
    )
    email_confirmed_at = models.DateTimeField(_("email confirmed at"), null=True, blank=True)
    is_staff = models.BooleanField(_("staff status"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    # A new random value whenever one of the customer's invoices is issued or paid, in the
    # same transaction: the cached invoice list is keyed by it (billing.services), and the
    # user row is loaded with every request anyway, so a page seen again needs no query.
    invoice_list_version = models.UUIDField(default=uuid.uuid4, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "nic_handle"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["email"]

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints = [
            models.UniqueConstraint(Lower("nic_handle"), name="user_nic_handle_ci_unique"),
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]

    def __str__(self):
        return self.nic_handle

    def get_full_name(self):
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self):
        return self.first_name

    @property
    def email_confirmed(self):
        return self.email_confirmed_at is not None

    def may_be_managed_by(self, staff_user) -> bool:
        """Whether `staff_user` may act on this account from admin: support agents act on
        customers; only a superuser acts on a staff or superuser account (else an agent
        could take one over, with a reset link or a new primary address)."""
        return staff_user.is_superuser or not (self.is_staff or self.is_superuser)


class IssuedNicHandleManager(models.Manager):
    CLAIM_ATTEMPTS = 50

    def claim(self, *, first_name, last_name, handle=None):
        """Reserve a NIC handle for good and return it. A random candidate that is taken
        (the unique index says so, even against a concurrent signup on PostgreSQL) is
        simply drawn again; a handle asked for by name that is taken is a ValueError."""
        for _attempt in range(self.CLAIM_ATTEMPTS):
            candidate = handle or nic_handle_candidate(first_name, last_name)
            try:
                with transaction.atomic():
                    self.create(handle=candidate)
            except IntegrityError:
                if handle:
                    raise ValueError(f"The NIC handle {handle} is already taken.") from None
                log.info("NIC handle %s taken, drawing another", candidate)
                continue
            return candidate
        raise RuntimeError("Could not draw a free NIC handle")  # 50 collisions in a row


class IssuedNicHandle(models.Model):
    """Every NIC handle ever assigned. Rows are never deleted, so a handle is never reused,
    even after its account is gone; inserting here is also how signup claims a handle."""

    handle = models.CharField(max_length=32)
    issued_at = models.DateTimeField(default=timezone.now)

    objects = IssuedNicHandleManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("handle"), name="issued_nic_handle_ci_unique"),
        ]

    def __str__(self):
        return self.handle


class SecurityEvent(models.Model):
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

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="security_events",
                             verbose_name=_("customer"))
    action = models.CharField(_("action"), max_length=40, choices=Action.choices)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL,
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

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="email_changes",
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

    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE,
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
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL,
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
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL,
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
