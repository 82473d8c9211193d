"""Orders: the price of a product for a period, and placing an order (its pending
service, its invoice issued at once, the confirmation email)."""

import uuid
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from billing.models import (
    Invoice,
    InvoiceLine,
    Order,
    OrderLine,
    Product,
    Service,
)
from billing.money import line_amounts, money
from billing.services.bank_transfer import transfer_instructions
from billing.services.invoices import (
    customer_vat,
    invoice_create,
    invoice_issue,
    invoice_line_add,
    invoice_line_description,
)
from notifications.services import email_queue
from portal.errors import DomainError


class PeriodNotSold(ValueError):
    """The product has no price for that period."""


def order_quote(*, product: Product, period: str, customer: User) -> InvoiceLine:
    """What one period of `product` costs `customer` (the VAT of their country, or none:
    billing.vat): an unsaved invoice line."""
    price = product.price_for(period)
    if price is None:
        raise PeriodNotSold(f"{product.code} is not sold by {period}")
    vat = customer_vat(customer)
    net, tax, total = line_amounts(unit_price=price, quantity=1, tax_rate=vat.rate)
    return InvoiceLine(product=product, period=period, quantity=1, unit_price=money(price),
                       tax_rate=vat.rate, tax_reason=vat.reason, tax_country=vat.country,
                       net_amount=net, tax_amount=tax, total_amount=total)


def order_number_next(*, customer: User) -> int:
    """The customer's next order number (1 for the first), under a lock on the customer
    row held until the caller's transaction ends: two orders of one customer at once
    take 1 and 2, never the same number (a unique constraint backs this)."""
    User.objects.select_for_update().filter(pk=customer.pk).values_list("pk").get()
    last = Order.objects.filter(customer=customer).aggregate(last=Max("number"))["last"]
    return (last or 0) + 1


def order_place(*, customer: User, product: Product, period: str, service_name: str,
                quoted_total: Decimal | None, token: uuid.UUID | None = None,
                now: datetime | None = None) -> Order:
    """1. Refuse (DomainError "price_changed") unless the price is still `quoted_total`,
       the total the customer confirmed: they see the new one and confirm again.
    2. The customer's order for one service, with the service awaiting payment.
    3. Its invoice, issued at once (number, PDF after commit).
    4. The order confirmation email with the NIC handle, in the same transaction.
    Submitting the same confirmation form twice (same `token`) returns the first order."""
    now = now or timezone.now()
    quote = order_quote(product=product, period=period, customer=customer)
    if quoted_total != quote.total_amount:
        raise DomainError(_("The price has changed since you saw it. Please check the new "
                            "price and confirm again."), code="price_changed")
    if token and (existing := Order.objects.filter(customer=customer, token=token).first()):
        return existing
    try:
        with transaction.atomic():
            order = Order.objects.create(customer=customer, created_at=now,
                                         number=order_number_next(customer=customer),
                                         **({"token": token} if token else {}))
            # The owner holds the three contact roles until a contact change moves one.
            service = Service.objects.create(customer=customer, product=product,
                                             name=service_name, period=period, created_at=now,
                                             admin_contact=customer, tech_contact=customer,
                                             billing_contact=customer)
            OrderLine.objects.create(order=order, product=product, service=service,
                                     period=period, unit_price=quote.unit_price,
                                     tax_rate=quote.tax_rate, tax_reason=quote.tax_reason,
                                     tax_country=quote.tax_country)
            invoice = invoice_create(customer=customer, kind=Invoice.Kind.ORDER, order=order,
                                     now=now)
            invoice_line_add(invoice=invoice,
                             description=invoice_line_description(service=service, period=period),
                             unit_price=quote.unit_price, tax_rate=quote.tax_rate,
                             tax_reason=quote.tax_reason, tax_country=quote.tax_country,
                             product=product, service=service, period=period)
            invoice_issue(invoice=invoice, now=now)
            email_queue(
                template="order_confirmed", to=customer.email, user=customer,
                context={"order": order, "invoice": invoice, "service": service,
                         "invoice_path": reverse("billing:invoice", args=[invoice.number]),
                         "transfer": transfer_instructions(invoice=invoice),
                         "pay_path": reverse("billing:invoice-pay", args=[invoice.number])},
            )
    except IntegrityError:
        existing = Order.objects.filter(customer=customer, token=token).first() if token else None
        if existing is None:
            raise
        return existing
    return order
