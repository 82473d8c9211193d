"""The catalogue and the services customers hold."""

from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from portal.db import ChoiceLabels
from portal.text import no_control_characters


class Period(models.TextChoices):
    MONTH = "month", _("1 month")
    YEAR = "year", _("1 year")


# The languages a product name is stored in besides the default one (name_<code>).
TRANSLATED_NAMES = ("es", "fr")

PERIOD_MONTHS = {Period.MONTH: 1, Period.YEAR: 12}


def period_end(start, period):
    return start + relativedelta(months=PERIOD_MONTHS[Period(period)])


class Product(models.Model):
    class Kind(models.TextChoices):
        DOMAIN = "domain", _("Domain name")
        HOSTING = "hosting", _("Web hosting")
        VPS = "vps", _("VPS")
        OTHER = "other", _("Other")

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100,
                            help_text=_("In English: shown in any language without a name below."))
    name_es = models.CharField(_("name in Spanish"), max_length=100, blank=True)
    name_fr = models.CharField(_("name in French"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    description = models.CharField(_("description"), max_length=255, blank=True)
    domain_suffix = models.CharField(
        _("domain suffix"), max_length=63, blank=True,
        help_text=_("For a domain name product: the ending every ordered name must have, "
                    "for example .com."),
    )
    price_monthly = models.DecimalField(
        _("monthly price (excl. tax)"), max_digits=10, decimal_places=2, null=True, blank=True,
        help_text=_("Leave empty when the product is not sold by the month."),
    )
    price_yearly = models.DecimalField(
        _("yearly price (excl. tax)"), max_digits=10, decimal_places=2, null=True, blank=True,
        help_text=_("Leave empty when the product is not sold by the year."),
    )
    tax_rate = models.DecimalField(
        _("tax rate (%)"), max_digits=5, decimal_places=2, default=Decimal("20.00")
    )
    is_active = models.BooleanField(_("on sale"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["position", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(price_monthly__isnull=False) | Q(price_yearly__isnull=False),
                name="product_has_a_price",
            ),
            models.CheckConstraint(
                condition=Q(price_monthly__isnull=True) | Q(price_monthly__gte=0),
                name="product_monthly_price_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(price_yearly__isnull=True) | Q(price_yearly__gte=0),
                name="product_yearly_price_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(tax_rate__gte=0) & Q(tax_rate__lte=100), name="product_tax_rate_range"
            ),
        ]

    def __str__(self):
        return self.localised_name

    @property
    def localised_name(self):
        """The name in the active language, else the default (English) name."""
        return self.name_in(get_language())

    def name_in(self, language: str | None) -> str:
        """The name in `language`, else the default (English) name."""
        return self.name_from(language, self.name, self.name_es, self.name_fr)

    @staticmethod
    def name_from(language: str | None, name: str, name_es: str, name_fr: str) -> str:
        """name_in() for the three columns read as values."""
        code = (language or "").split("-")[0]
        return dict(zip(TRANSLATED_NAMES, (name_es, name_fr))).get(code) or name

    def price_for(self, period):
        """The price excluding tax for one `period`, or None when it is not sold so."""
        return self.price_monthly if period == Period.MONTH else self.price_yearly


class ContactRole(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    TECH = "tech", _("Technical")
    BILLING = "billing", _("Billing")


CONTACT_ROLE_FIELDS = {
    ContactRole.ADMIN: "admin_contact",
    ContactRole.TECH: "tech_contact",
    ContactRole.BILLING: "billing_contact",
}


class Service(ChoiceLabels, models.Model):
    """Something a customer owns: a domain, a hosting plan, a VPS."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting payment")
        ACTIVE = "active", _("Active")
        EXPIRED = "expired", _("Expired")
        # Its invoice is 15 days overdue (billing.services.dunning); paid: active again.
        SUSPENDED = "suspended", pgettext_lazy("service", "Suspended")
        CANCELLED = "cancelled", _("Cancelled")

    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="services", verbose_name=_("customer"))
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="services",
                                verbose_name=_("product"))
    name = models.CharField(_("name"), max_length=253, validators=[no_control_characters])
    period = models.CharField(_("billing period"), max_length=8, choices=Period.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices,
                              default=Status.PENDING)
    auto_renew = models.BooleanField(_("automatic renewal"), default=True)
    created_at = models.DateTimeField(_("ordered"))
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    # The three contacts (OVHcloud's nichandle roles), the owner at creation; moved to
    # another account only by a contact-change request both accounts accept
    # (billing.services.contacts).
    admin_contact = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                      related_name="admin_services",
                                      verbose_name=_("administrator contact"))
    tech_contact = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="tech_services",
                                     verbose_name=_("technical contact"))
    billing_contact = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                        related_name="billing_services",
                                        verbose_name=_("billing contact"))
    # Renewal invoices that could not be issued in a row, and when to try again: the
    # renewal job skips the service until then (billing.services.renewals).
    renewal_attempts = models.PositiveSmallIntegerField(_("failed renewal attempts"), default=0,
                                                        editable=False)
    renewal_retry_at = models.DateTimeField(_("renewal retried after"), null=True, blank=True,
                                            editable=False)

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        indexes = [
            models.Index(fields=["status", "auto_renew", "expires_at"], name="service_renewal_idx"),
            models.Index(fields=["customer", "-created_at"], name="service_customer_idx"),
        ]

    def __str__(self):
        return self.name

    def roles_of(self, user_id: int) -> list[str]:
        """The roles (ContactRole values) `user_id` holds on this service."""
        return [role for role, field in CONTACT_ROLE_FIELDS.items()
                if getattr(self, f"{field}_id") == user_id]


