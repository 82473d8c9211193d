"""Credit notes: the correction of an issued invoice, whole or by line, with a reason. A
legal document like the invoice: its own gapless number series, and once issued nothing
on it changes."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from billing.models.invoices import Invoice, InvoiceIssued, InvoiceLine
from billing.money import CURRENCY

CREDIT_NOTE_PREFIX = "AV"


class CreditNoteSequence(models.Model):
    """The last credit note number of a year, locked while a credit note is issued (as
    InvoiceSequence)."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("credit note sequence")
        verbose_name_plural = _("credit note sequences")

    def __str__(self):
        return f"{self.year}: {self.last_number}"


class CreditNote(models.Model):
    """Created issued, in one transaction with its lines (billing.services.credit_notes)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes",
                                verbose_name=_("invoice"))
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="credit_notes", verbose_name=_("customer"))
    number = models.CharField(_("number"), max_length=20, unique=True)
    year = models.PositiveSmallIntegerField(_("year"))
    sequence = models.PositiveIntegerField(_("sequence"))
    issued_at = models.DateTimeField(_("date"))
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+", verbose_name=_("issued by"))
    reason = models.CharField(_("reason"), max_length=255)
    currency = models.CharField(_("currency"), max_length=3, default=CURRENCY)
    customer_nic_handle = models.CharField(_("customer ID (NIC handle)"), max_length=32)
    customer_name = models.CharField(_("customer name"), max_length=201, blank=True)
    customer_organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    customer_address = models.TextField(_("customer address"), blank=True)
    seller_name = models.CharField(_("seller"), max_length=200, blank=True)
    seller_address = models.TextField(_("seller address"), blank=True)
    seller_vat_number = models.CharField(_("seller VAT number"), max_length=40, blank=True)
    subtotal = models.DecimalField(_("total excl. tax"), max_digits=12, decimal_places=2)
    tax_total = models.DecimalField(_("tax"), max_digits=12, decimal_places=2)
    total = models.DecimalField(_("total incl. tax"), max_digits=12, decimal_places=2)
    pdf = models.FileField(_("PDF"), upload_to="credit_notes/", blank=True, editable=False)

    class Meta:
        verbose_name = _("credit note")
        verbose_name_plural = _("credit notes")
        constraints = [
            models.UniqueConstraint(fields=["year", "sequence"],
                                    name="credit_note_year_sequence_unique"),
        ]
        indexes = [models.Index(fields=["customer", "-issued_at"], name="credit_note_customer_idx")]

    def __str__(self):
        return self.number

    # An issued document: like Invoice.ensure_draft, a credit note is never a draft.
    is_issued = True

    def ensure_draft(self):
        raise InvoiceIssued(self.number)

    def pdf_name(self):
        return f"credit_notes/{self.year}/{self.number}.pdf"

    def tax_breakdown(self):
        by_rate = {}
        for line in self.lines.all():
            net, tax = by_rate.get(line.tax_rate, (Decimal("0.00"), Decimal("0.00")))
            by_rate[line.tax_rate] = (net + line.net_amount, tax + line.tax_amount)
        return [(rate, net, tax) for rate, (net, tax) in sorted(by_rate.items())]


class CreditNoteLine(models.Model):
    """An invoice line credited in full, at the amounts it was invoiced at. The unique
    invoice line is what keeps a credit from going beyond what was invoiced."""

    credit_note = models.ForeignKey(CreditNote, on_delete=models.PROTECT, related_name="lines",
                                    verbose_name=_("credit note"))
    invoice_line = models.OneToOneField(InvoiceLine, on_delete=models.PROTECT,
                                        related_name="credited_by",
                                        verbose_name=_("invoice line"))
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    description = models.CharField(_("description"), max_length=255)
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price = models.DecimalField(_("unit price (excl. tax)"), max_digits=10, decimal_places=2)
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=5, decimal_places=2)
    net_amount = models.DecimalField(_("amount excl. tax"), max_digits=12, decimal_places=2)
    tax_amount = models.DecimalField(_("tax"), max_digits=12, decimal_places=2)
    total_amount = models.DecimalField(_("amount incl. tax"), max_digits=12, decimal_places=2)

    class Meta:
        verbose_name = _("credit note line")
        verbose_name_plural = _("credit note lines")
        ordering = ["position", "pk"]

    def __str__(self):
        return self.description
