"""Orders and their lines."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from billing.models.catalogue import Period, Product, Service
from billing.vat import Reason
from portal.db import ChoiceLabels


class Order(models.Model):
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="orders", verbose_name=_("customer"))
    created_at = models.DateTimeField(_("date"))
    # The number the customer reads ("#1" for their first order), counted per customer
    # under a lock on the customer row (billing.services.orders.order_place). The URL
    # keeps the primary key.
    number = models.PositiveIntegerField(_("number"), editable=False)
    # Sent with the confirmation form: a second submit of the same form finds this
    # order instead of placing another one.
    token = models.UUIDField(_("form token"), default=uuid.uuid4, editable=False)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [
            models.UniqueConstraint(fields=["customer", "token"], name="order_token_unique"),
            models.UniqueConstraint(fields=["customer", "number"], name="order_number_unique"),
        ]
        indexes = [models.Index(fields=["customer", "-created_at"], name="order_customer_idx")]

    def __str__(self):
        return f"#{self.number}"


class OrderLine(ChoiceLabels, models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines",
                              verbose_name=_("order"))
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("product"))
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="order_lines",
                                verbose_name=_("service"))
    period = models.CharField(_("period"), max_length=8, choices=Period.choices)
    unit_price = models.DecimalField(_("unit price (excl. tax)"), max_digits=10, decimal_places=2)
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=5, decimal_places=2)
    tax_reason = models.CharField(_("VAT reason"), max_length=16, choices=Reason.choices,
                                  default=Reason.STANDARD)
    tax_country = models.CharField(_("VAT country"), max_length=2, blank=True)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["pk"]

    def __str__(self):
        return f"{self.product} {self.service}"


