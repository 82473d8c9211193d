"""Catalogue, services, orders and invoices.

Amounts follow billing.money. An issued invoice is a legal document: its number,
customer and seller details, lines and amounts never change afterwards (the payment
record beside them does)."""

import uuid
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from billing.money import CURRENCY
from portal.text import no_control_characters

NUMBER_PREFIX = "FR"


class Period(models.TextChoices):
    MONTH = "month", _("1 month")
    YEAR = "year", _("1 year")


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
    name = models.CharField(_("name"), max_length=100)
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
        return self.name

    def price_for(self, period):
        """The price excluding tax for one `period`, or None when it is not sold so."""
        return self.price_monthly if period == Period.MONTH else self.price_yearly


class Service(models.Model):
    """Something a customer owns: a domain, a hosting plan, a VPS."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting payment")
        ACTIVE = "active", _("Active")
        EXPIRED = "expired", _("Expired")
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


class ContactRole(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    TECH = "tech", _("Technical")
    BILLING = "billing", _("Billing")


CONTACT_ROLE_FIELDS = {
    ContactRole.ADMIN: "admin_contact",
    ContactRole.TECH: "tech_contact",
    ContactRole.BILLING: "billing_contact",
}


class ContactChangeRequest(models.Model):
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


class Order(models.Model):
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="orders", verbose_name=_("customer"))
    created_at = models.DateTimeField(_("date"))
    # Sent with the confirmation form: a second submit of the same form finds this
    # order instead of placing another one.
    token = models.UUIDField(_("form token"), default=uuid.uuid4, editable=False)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [
            models.UniqueConstraint(fields=["customer", "token"], name="order_token_unique"),
        ]
        indexes = [models.Index(fields=["customer", "-created_at"], name="order_customer_idx")]

    def __str__(self):
        return f"#{self.pk}"


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines",
                              verbose_name=_("order"))
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("product"))
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="order_lines",
                                verbose_name=_("service"))
    period = models.CharField(_("period"), max_length=8, choices=Period.choices)
    unit_price = models.DecimalField(_("unit price (excl. tax)"), max_digits=10, decimal_places=2)
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=5, decimal_places=2)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["pk"]

    def __str__(self):
        return f"{self.product} {self.service}"


class InvoiceSequence(models.Model):
    """The last invoice number handed out in a year. The row is locked while an invoice
    is issued, so numbers are handed out one at a time and a rolled-back issue gives its
    number back."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("invoice sequence")
        verbose_name_plural = _("invoice sequences")

    def __str__(self):
        return f"{self.year}: {self.last_number}"


class InvoiceIssued(Exception):
    """The invoice is issued: it can no longer change."""


class Invoice(models.Model):
    class Kind(models.TextChoices):
        ORDER = "order", _("Order")
        RENEWAL = "renewal", _("Renewal")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ISSUED = "issued", _("Issued")

    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="invoices", verbose_name=_("customer"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    order = models.OneToOneField(Order, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="invoice", verbose_name=_("order"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices,
                              default=Status.DRAFT)
    created_at = models.DateTimeField(_("created"))

    # Set once, when the invoice is issued.
    number = models.CharField(_("number"), max_length=20, unique=True, null=True, blank=True)
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    sequence = models.PositiveIntegerField(_("sequence"), null=True, blank=True)
    issued_at = models.DateTimeField(_("date"), null=True, blank=True)
    due_at = models.DateTimeField(_("due date"), null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default=CURRENCY)
    customer_nic_handle = models.CharField(_("customer ID (NIC handle)"), max_length=32, blank=True)
    customer_name = models.CharField(_("customer name"), max_length=201, blank=True)
    customer_organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    customer_address = models.TextField(_("customer address"), blank=True)
    seller_name = models.CharField(_("seller"), max_length=200, blank=True)
    seller_address = models.TextField(_("seller address"), blank=True)
    seller_vat_number = models.CharField(_("seller VAT number"), max_length=40, blank=True)
    subtotal = models.DecimalField(_("total excl. tax"), max_digits=12, decimal_places=2,
                                   default=Decimal("0.00"))
    tax_total = models.DecimalField(_("tax"), max_digits=12, decimal_places=2,
                                    default=Decimal("0.00"))
    total = models.DecimalField(_("total incl. tax"), max_digits=12, decimal_places=2,
                                default=Decimal("0.00"))
    pdf = models.FileField(_("PDF"), upload_to="invoices/", blank=True, editable=False)

    # The payment record: not part of the document.
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    paid_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                null=True, blank=True, related_name="+",
                                verbose_name=_("marked paid by"))

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        constraints = [
            models.UniqueConstraint(fields=["year", "sequence"],
                                    name="invoice_year_sequence_unique"),
            models.CheckConstraint(
                condition=Q(status="draft")
                | (Q(number__isnull=False) & Q(issued_at__isnull=False)),
                name="invoice_issued_has_number",
            ),
        ]
        indexes = [
            # Covers the invoice list: per-year counts and pages without reading rows.
            models.Index(fields=["customer", "status", "-year", "-sequence"],
                         name="invoice_customer_idx"),
        ]

    def __str__(self):
        return self.number or _("Draft invoice %(id)s") % {"id": self.pk}

    @property
    def is_issued(self):
        return self.status == self.Status.ISSUED

    @property
    def is_paid(self):
        return self.paid_at is not None

    def ensure_draft(self):
        if self.is_issued:
            raise InvoiceIssued(self.number)

    def pdf_name(self):
        return f"invoices/{self.year}/{self.number}.pdf"

    def tax_breakdown(self):
        """[(rate, net, tax)] over the lines, one entry per tax rate, from the lines
        already fetched with the invoice."""
        by_rate = {}
        for line in self.lines.all():
            net, tax = by_rate.get(line.tax_rate, (Decimal("0.00"), Decimal("0.00")))
            by_rate[line.tax_rate] = (net + line.net_amount, tax + line.tax_amount)
        return [(rate, net, tax) for rate, (net, tax) in sorted(by_rate.items())]


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines",
                                verbose_name=_("invoice"))
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+", verbose_name=_("product"))
    service = models.ForeignKey(Service, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="invoice_lines", verbose_name=_("service"))
    description = models.CharField(_("description"), max_length=255)
    period = models.CharField(_("period"), max_length=8, choices=Period.choices, blank=True)
    # Known for renewals; a new service's period starts when it is delivered.
    period_start = models.DateTimeField(_("from"), null=True, blank=True)
    period_end = models.DateTimeField(_("to"), null=True, blank=True)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    unit_price = models.DecimalField(_("unit price (excl. tax)"), max_digits=10, decimal_places=2)
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=5, decimal_places=2)
    net_amount = models.DecimalField(_("amount excl. tax"), max_digits=12, decimal_places=2)
    tax_amount = models.DecimalField(_("tax"), max_digits=12, decimal_places=2)
    total_amount = models.DecimalField(_("amount incl. tax"), max_digits=12, decimal_places=2)

    class Meta:
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        ordering = ["position", "pk"]
        constraints = [
            # A service is never billed twice for the same period: this is also what
            # makes two renewal runs at once issue one invoice.
            models.UniqueConstraint(fields=["service", "period_start"],
                                    name="invoice_line_service_period_unique"),
        ]

    def __str__(self):
        return self.description
