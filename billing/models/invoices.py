"""Invoices: an issued invoice is a legal document; its number, customer and seller details,
lines and amounts never change afterwards (the payment record beside them does)."""

from datetime import datetime
from datetime import timezone as dt_timezone
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from billing.models.catalogue import Period, Product, Service
from billing.models.orders import Order
from billing.money import CURRENCY
from billing.vat import Reason

NUMBER_PREFIX = "FR"


def overdue_since(now: datetime) -> datetime:
    """Invoices due before this time are overdue at `now`: the due date is a day (the
    invoice prints it so), so an invoice is overdue from the start of the next day (UTC)."""
    return now.astimezone(dt_timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)


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
    customer_vat_number = models.CharField(_("customer VAT number"), max_length=20, blank=True)
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
    # Reminders and suspension of an unpaid invoice (billing.services.dunning): each step
    # is claimed by setting its time, so it happens once.
    first_reminder_at = models.DateTimeField(_("first reminder sent"), null=True, blank=True,
                                             editable=False)
    second_reminder_at = models.DateTimeField(_("second reminder sent"), null=True, blank=True,
                                              editable=False)
    suspended_at = models.DateTimeField(_("services suspended"), null=True, blank=True,
                                        editable=False)

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
            # The reminder job's work: issued, unpaid invoices by due date.
            models.Index(fields=["due_at"], condition=Q(status="issued", paid_at__isnull=True),
                         name="invoice_unpaid_due_idx"),
        ]

    def __str__(self):
        return self.number or _("Draft invoice %(id)s") % {"id": self.pk}

    @property
    def is_issued(self):
        return self.status == self.Status.ISSUED

    @property
    def is_paid(self):
        return self.paid_at is not None

    @property
    def amount_paid(self) -> Decimal:
        """The payments recorded against it (prefetch `payments` to read many)."""
        return sum((payment.amount for payment in self.payments.all()), Decimal("0.00"))

    @property
    def amount_credited(self) -> Decimal:
        """The totals of its credit notes (prefetch `credit_notes` to read many)."""
        return sum((note.total for note in self.credit_notes.all()), Decimal("0.00"))

    @property
    def amount_due(self) -> Decimal:
        """Total − payments − credit notes, never below zero: a credit note beyond what
        was left to pay became account credit when it was issued."""
        return max(self.total - self.amount_paid - self.amount_credited, Decimal("0.00"))

    def is_overdue(self, now: datetime) -> bool:
        return (self.is_issued and not self.is_paid and self.due_at is not None
                and self.due_at < overdue_since(now) and self.amount_due > 0)

    def ensure_draft(self):
        if self.is_issued:
            raise InvoiceIssued(self.number)

    def pdf_name(self):
        return f"invoices/{self.year}/{self.number}.pdf"

    def vat_reasons(self) -> set[str]:
        """The VAT reasons (billing.vat.Reason) of the lines already fetched."""
        return {line.tax_reason for line in self.lines.all()}

    @property
    def is_reverse_charge(self) -> bool:
        return Reason.REVERSE_CHARGE in self.vat_reasons()

    @property
    def is_outside_eu_vat(self) -> bool:
        return Reason.OUTSIDE_EU in self.vat_reasons()

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
    # Why this rate (billing.vat), decided when the line was written: never recomputed.
    tax_reason = models.CharField(_("VAT reason"), max_length=16, choices=Reason.choices,
                                  default=Reason.STANDARD)
    tax_country = models.CharField(_("VAT country"), max_length=2, blank=True)
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

    def tax_country_name(self) -> str:
        return str(countries.name(self.tax_country)) or self.tax_country
