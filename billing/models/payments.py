"""Money in: payments recorded against invoices, the account credit ledger, and the bank
statements staff import with each credit entry they held.

Amounts follow billing.money. What balances, per customer (billing.selectors.account_balance):
invoiced − credited − received = due − credit, where `received` is the money that came in
(bank transfers and payments recorded by staff, over-payments included)."""

from decimal import Decimal

from django.conf import settings
from django.db import connections, models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from billing.models.invoices import Invoice


class BankStatement(models.Model):
    """One statement file imported by staff (camt.053 or camt.054)."""

    imported_at = models.DateTimeField(_("imported"))
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("imported by"))
    file_name = models.CharField(_("file"), max_length=255)
    message_id = models.CharField(_("message ID"), max_length=64, blank=True)
    entries_new = models.PositiveIntegerField(_("new entries"), default=0)
    entries_known = models.PositiveIntegerField(_("entries already imported"), default=0)
    entries_skipped = models.PositiveIntegerField(_("debit entries skipped"), default=0)

    class Meta:
        verbose_name = _("bank statement")
        verbose_name_plural = _("bank statements")
        permissions = [("import_bankstatement", _("Can import bank statements"))]

    def __str__(self):
        return f"{self.file_name} ({self.imported_at:%Y-%m-%d %H:%M})"


class StatementEntry(models.Model):
    """A credit entry of a bank statement and what reconciliation made of it. Recorded
    once by its bank reference: importing a statement again finds it and skips it."""

    class Outcome(models.TextChoices):
        MATCHED = "matched", pgettext_lazy("statement entry", "Matched")
        MATCHED_BY_AMOUNT = "amount_nic", pgettext_lazy("statement entry",
                                                        "Matched by amount and NIC handle")
        PARTIAL = "partial", pgettext_lazy("statement entry", "Partial payment")
        OVERPAID = "overpaid", pgettext_lazy("statement entry", "Over-payment")
        UNMATCHED = "unmatched", pgettext_lazy("statement entry", "Unmatched")

    statement = models.ForeignKey(BankStatement, on_delete=models.PROTECT,
                                  related_name="entries", verbose_name=_("statement"))
    bank_reference = models.CharField(_("bank reference"), max_length=64, unique=True)
    booked_on = models.DateField(_("booking date"), null=True, blank=True)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    debtor_name = models.CharField(_("payer"), max_length=140, blank=True)
    remittance = models.TextField(_("remittance information"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="statement_entries", verbose_name=_("invoice"))
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="+", verbose_name=_("customer"))

    class Meta:
        verbose_name = _("statement entry")
        verbose_name_plural = _("statement entries")
        indexes = [models.Index(fields=["outcome"], name="statement_entry_outcome_idx")]

    def __str__(self):
        return self.bank_reference

    @property
    def needs_review(self):
        return self.outcome not in (self.Outcome.MATCHED, self.Outcome.MATCHED_BY_AMOUNT)


class Payment(models.Model):
    """Money applied to an invoice: never more than it had due (the rest of a transfer
    becomes account credit)."""

    class Method(models.TextChoices):
        BANK_TRANSFER = "transfer", _("Bank transfer")
        MANUAL = "manual", _("Recorded by staff")
        ACCOUNT_CREDIT = "credit", _("Account credit")

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments",
                                verbose_name=_("invoice"))
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    received_on = models.DateField(_("date"))
    method = models.CharField(_("method"), max_length=8, choices=Method.choices)
    bank_reference = models.CharField(_("bank reference"), max_length=64, blank=True)
    statement_entry = models.ForeignKey(StatementEntry, on_delete=models.PROTECT, null=True,
                                        blank=True, related_name="payments",
                                        verbose_name=_("statement entry"))
    recorded_at = models.DateTimeField(_("recorded"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("recorded by"))

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["recorded_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
        ]

    def __str__(self):
        return f"{self.amount} → {self.invoice_id}"


class CreditMovement(models.Model):
    """One line of a customer's account credit: positive when credit is made (an
    over-payment, a credit note beyond what was due), negative when an invoice uses it."""

    class Kind(models.TextChoices):
        OVERPAYMENT = "overpayment", _("Over-payment")
        CREDIT_NOTE = "credit_note", _("Credit note")
        USED = "used", _("Used by an invoice")

    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="credit_movements", verbose_name=_("customer"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(_("date"))
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+", verbose_name=_("invoice"))
    credit_note = models.ForeignKey("billing.CreditNote", on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="+", verbose_name=_("credit note"))
    statement_entry = models.ForeignKey(StatementEntry, on_delete=models.PROTECT, null=True,
                                        blank=True, related_name="+",
                                        verbose_name=_("statement entry"))

    class Meta:
        verbose_name = _("credit movement")
        verbose_name_plural = _("credit movements")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["customer", "created_at"], name="credit_customer_idx")]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="used") & Q(amount__lt=0)) | (~Q(kind="used") & Q(amount__gt=0)),
                name="credit_movement_sign"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.amount}"


def decimal_sum(queryset: models.QuerySet, field: str) -> Decimal:
    """The exact sum of a money column: by the database where it adds decimals exactly
    (PostgreSQL's numeric), else here: SQLite sums decimals as floating point numbers
    (0.1 + 0.2 ≠ 0.3 there), so its rows are added up in Python."""
    if connections[queryset.db].vendor == "postgresql":
        total = queryset.order_by().aggregate(total=models.Sum(field))["total"]
        return Decimal("0.00") if total is None else total
    return sum(queryset.values_list(field, flat=True), Decimal("0.00"))


def credit_balance(customer_id: int) -> Decimal:
    """The customer's account credit: the sum of its movements."""
    return decimal_sum(CreditMovement.objects.filter(customer_id=customer_id), "amount")
