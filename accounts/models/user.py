"""Customers (and staff): the account, its NIC handle, handles ever issued."""

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
            from accounts.models.log import SecurityEvent

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
    # Businesses in the EU: checked against the country when typed (billing.vat); with it,
    # a business outside the seller's country is invoiced under the reverse charge.
    vat_number = models.CharField(_("VAT number"), max_length=20, blank=True)
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
    # same transaction: the cached invoice list is keyed by it
    # (billing.selectors.invoice_list), and the user row is loaded with every request
    # anyway, so a page seen again needs no query.
    invoice_list_version = models.UUIDField(default=uuid.uuid4, editable=False)
    # The same for what the security page shows of the account's log and second factor:
    # changed with each security log line and each change of a factor or backup code
    # (accounts.security.security_page_changed).
    security_version = models.UUIDField(default=uuid.uuid4, editable=False)

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
        indexes = [
            # Staff find a customer by their spare address too (accounts.selectors).
            models.Index(Lower("spare_email"), name="user_spare_email_ci"),
            # The admin's list, newest first (UserAdmin.ordering, then the pk): a page of
            # it is an index scan, not a sort of every customer.
            models.Index(fields=["-date_joined", "-id"], name="user_joined_idx"),
        ]

    def __str__(self):
        return self.nic_handle

    def get_full_name(self):
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def is_business(self):
        return self.legal_form != LegalForm.INDIVIDUAL

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
