"""The renewal beat jobs: renewal invoices issued ahead of expiry for auto-renew
services, and services left unpaid past their expiry marked expired."""

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse

from billing.models import Invoice, InvoiceLine, Service, period_end
from billing.services.bank_transfer import transfer_instructions
from billing.services.invoices import (
    customer_vat,
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
RENEWAL_RETRY_FIRST = timedelta(hours=1)  # after one failure; doubled at each one after
RENEWAL_RETRY_MAX = timedelta(days=7)


def services_expire_due(*, now: datetime) -> int:
    """Active services past their expiry become expired (a late payment revives them).
    Returns how many expired."""
    return Service.objects.filter(status=Service.Status.ACTIVE, expires_at__lte=now).update(
        status=Service.Status.EXPIRED)


def renewals_issue_due(*, now: datetime) -> list[Invoice]:
    """Issue the renewal invoice of every auto-renew service expiring within 15 days.

    1. List the due services that have no invoice line for the coming period yet,
       leaving out those whose last attempt failed until their retry time, and putting
       those that failed before after the others.
    2. For each, in its own transaction: lock the service (skip it when another run holds
       it), check again, issue the invoice and queue the renewal email. The unique
       (service, period start) index on invoice lines backs this up, so two runs at once
       still issue one invoice.
    3. A service that fails is logged and pushed later (1 hour, doubled at each failure
       in a row, at most a week), so it cannot block the others or fill the batch.
    Returns the issued invoices."""
    billed = InvoiceLine.objects.filter(service=OuterRef("pk"), period_start=OuterRef("expires_at"))
    due = list(
        Service.objects.filter(status=Service.Status.ACTIVE, auto_renew=True,
                               expires_at__isnull=False, expires_at__lte=now + RENEWAL_NOTICE)
        .filter(_retry_due(now))
        .exclude(Exists(billed)).order_by("renewal_attempts", "expires_at")
        .values_list("pk", flat=True)[:RENEWAL_BATCH]
    )
    issued = []
    for service_id in due:
        try:
            invoice = _renewal_issue(service_id=service_id, now=now)
        except IntegrityError:
            log.info("Renewal of service %s was issued by another run", service_id)
            continue
        except Exception:  # before the attempt (the lock, the checks): try next run
            log.exception("Could not issue the renewal of service %s", service_id)
            continue
        if invoice is not None:
            issued.append(invoice)
    return issued


def _retry_due(now: datetime) -> Q:
    """Services whose last renewal attempt did not fail, or whose retry time has come."""
    return Q(renewal_retry_at__isnull=True) | Q(renewal_retry_at__lte=now)


def _renewal_issue(*, service_id: int, now: datetime) -> Invoice | None:
    """The renewal invoice of one service, or None when there is nothing to issue (or it
    failed: then the failure is logged and the next try pushed later, under the same
    lock as the attempt)."""
    with transaction.atomic():
        service = (Service.objects.select_for_update(skip_locked=True, of=("self",))
                   .select_related("product", "customer", "billing_contact")
                   .filter(_retry_due(now), pk=service_id, status=Service.Status.ACTIVE,
                           auto_renew=True).first())
        if service is None or service.expires_at is None:
            return None
        if InvoiceLine.objects.filter(service=service, period_start=service.expires_at).exists():
            return None
        try:
            with transaction.atomic():  # a savepoint: a failure undoes the attempt only
                invoice = _renewal_invoice(service=service, now=now)
        except IntegrityError:
            raise  # another run issued it: nothing failed
        except Exception:
            log.exception("Could not issue the renewal of service %s", service_id)
            delay = min(RENEWAL_RETRY_FIRST * 2 ** service.renewal_attempts, RENEWAL_RETRY_MAX)
            Service.objects.filter(pk=service.pk).update(
                renewal_attempts=service.renewal_attempts + 1, renewal_retry_at=now + delay)
            return None
        if service.renewal_attempts or service.renewal_retry_at:
            Service.objects.filter(pk=service.pk).update(renewal_attempts=0,
                                                         renewal_retry_at=None)
    return invoice


def _renewal_invoice(*, service: Service, now: datetime) -> Invoice:
    start = service.expires_at
    end = period_end(start, service.period)
    product = service.product
    price = product.price_for(service.period)
    if price is None:
        raise PeriodNotSold(f"{product.code} is no longer sold by {service.period}")
    # Issued to the billing contact: it is theirs to pay, in their list, with their
    # email (the owner keeps the invoices issued before the contact changed).
    customer = service.billing_contact
    invoice = invoice_create(customer=customer, kind=Invoice.Kind.RENEWAL, now=now)
    vat = customer_vat(customer)
    invoice_line_add(invoice=invoice,
                     description=invoice_line_description(service=service, period=service.period,
                                                          start=start, end=end),
                     unit_price=price, tax_rate=vat.rate, tax_reason=vat.reason,
                     tax_country=vat.country, product=product,
                     service=service, period=service.period, period_start=start,
                     period_end=end)
    invoice_issue(invoice=invoice, now=now)
    email_queue(
        template="renewal_invoice", to=customer.email, user=customer,
        context={"invoice": invoice, "service": service, "period_end": end,
                 "invoice_path": reverse("billing:invoice", args=[invoice.number]),
                 "transfer": transfer_instructions(invoice=invoice),
                 "pay_path": reverse("billing:invoice-pay", args=[invoice.number])},
    )
    return invoice
