"""The renewal beat jobs: renewal invoices issued ahead of expiry for auto-renew
services, and services left unpaid past their expiry marked expired."""

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse

from billing.models import Invoice, InvoiceLine, Service, period_end
from billing.services.invoices import (
    invoice_create,
    invoice_issue,
    invoice_line_add,
    invoice_line_description,
)
from billing.services.orders import PeriodNotSold
from notifications.services import email_queue

log = logging.getLogger(__name__)

RENEWAL_NOTICE = timedelta(days=15)
RENEWAL_BATCH = 1000


def services_expire_due(*, now: datetime) -> int:
    """Active services past their expiry become expired (a late payment revives them).
    Returns how many expired."""
    return Service.objects.filter(status=Service.Status.ACTIVE, expires_at__lte=now).update(
        status=Service.Status.EXPIRED)


def renewals_issue_due(*, now: datetime) -> list[Invoice]:
    """Issue the renewal invoice of every auto-renew service expiring within 15 days.

    1. List the due services that have no invoice line for the coming period yet.
    2. For each, in its own transaction: lock the service (skip it when another run holds
       it), check again, issue the invoice and queue the renewal email. The unique
       (service, period start) index on invoice lines backs this up, so two runs at once
       still issue one invoice.
    3. A service that fails is logged and skipped, so it cannot block the others.
    Returns the issued invoices."""
    billed = InvoiceLine.objects.filter(service=OuterRef("pk"), period_start=OuterRef("expires_at"))
    due = list(
        Service.objects.filter(status=Service.Status.ACTIVE, auto_renew=True,
                               expires_at__isnull=False, expires_at__lte=now + RENEWAL_NOTICE)
        .exclude(Exists(billed)).order_by("expires_at").values_list("pk", flat=True)[:RENEWAL_BATCH]
    )
    issued = []
    for service_id in due:
        try:
            invoice = _renewal_issue(service_id=service_id, now=now)
        except IntegrityError:
            log.info("Renewal of service %s was issued by another run", service_id)
            continue
        except Exception:
            log.exception("Could not issue the renewal of service %s", service_id)
            continue
        if invoice is not None:
            issued.append(invoice)
    return issued


def _renewal_issue(*, service_id: int, now: datetime) -> Invoice | None:
    with transaction.atomic():
        service = (Service.objects.select_for_update(skip_locked=True, of=("self",))
                   .select_related("product", "customer")
                   .filter(pk=service_id, status=Service.Status.ACTIVE, auto_renew=True).first())
        if service is None or service.expires_at is None:
            return None
        start = service.expires_at
        if InvoiceLine.objects.filter(service=service, period_start=start).exists():
            return None
        end = period_end(start, service.period)
        product = service.product
        price = product.price_for(service.period)
        if price is None:
            raise PeriodNotSold(f"{product.code} is no longer sold by {service.period}")
        customer = service.customer
        invoice = invoice_create(customer=customer, kind=Invoice.Kind.RENEWAL, now=now,
                                 due_at=start)
        invoice_line_add(invoice=invoice,
                         description=invoice_line_description(service=service,
                                                              period=service.period,
                                                              start=start, end=end),
                         unit_price=price, tax_rate=product.tax_rate, product=product,
                         service=service, period=service.period, period_start=start,
                         period_end=end)
        invoice_issue(invoice=invoice, now=now)
        email_queue(
            template="renewal_invoice", to=customer.email, user=customer,
            context={"invoice": invoice, "service": service, "period_end": end,
                     "invoice_path": reverse("billing:invoice", args=[invoice.number])},
        )
    return invoice
