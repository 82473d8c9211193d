"""Billing workflows: placing an order, issuing and paying invoices, renewals, PDFs."""

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext

from accounts.models import SecurityEvent, User
from accounts.security import security_log
from billing.models import (
    NUMBER_PREFIX,
    Invoice,
    InvoiceLine,
    InvoiceSequence,
    Order,
    OrderLine,
    Period,
    Service,
    line_amounts,
    money,
    period_end,
)
from notifications.services import email_queue
from portal.cache import cached

log = logging.getLogger(__name__)

RENEWAL_NOTICE = timedelta(days=15)
RENEWAL_BATCH = 1000


class PeriodNotSold(ValueError):
    """The product has no price for that period."""


# --- invoices ---------------------------------------------------------------------------


def invoice_list_changed(*, customer_id):
    """Give the customer's invoice list a new version, in the caller's transaction: cached
    pages of the old version are never read again. Call it whenever an issued invoice
    appears or changes what the list shows (its payment)."""
    User.objects.filter(pk=customer_id).update(invoice_list_version=uuid.uuid4())


def invoice_list_cache_key(customer, *parts):
    """A cache key for part of `customer`'s invoice list as of the version loaded with
    the customer (the user row read at the start of the request)."""
    return ":".join(map(str, ("billing:invoice-list", customer.pk,
                              customer.invoice_list_version.hex, *parts)))


def invoice_years(*, customer):
    """The years of the customer's issued invoices, newest first, with their counts."""
    def query():
        return list(Invoice.objects.filter(customer=customer, status=Invoice.Status.ISSUED)
                    .values_list("year").annotate(count=Count("pk")).order_by("-year"))
    return cached(invoice_list_cache_key(customer, "years"), query,
                  timeout=settings.INVOICE_LIST_CACHE_SECONDS)

def invoice_create(*, customer, kind, now, order=None, due_at=None):
    """A draft invoice: lines can be added until it is issued."""
    return Invoice.objects.create(customer=customer, kind=kind, order=order, created_at=now,
                                  due_at=due_at)


def invoice_line_add(*, invoice, description, unit_price, tax_rate, quantity=1, product=None,
                     service=None, period="", period_start=None, period_end=None):
    """Add a line to a draft invoice. An issued invoice refuses (InvoiceIssued)."""
    unit_price = money(unit_price)
    net, tax, total = line_amounts(unit_price=unit_price, quantity=quantity, tax_rate=tax_rate)
    with transaction.atomic():
        # Checked on the locked row, not on a possibly stale instance.
        Invoice.objects.select_for_update().get(pk=invoice.pk).ensure_draft()
        return InvoiceLine.objects.create(
            invoice=invoice, position=invoice.lines.count(), product=product, service=service,
            description=description, period=period, period_start=period_start,
            period_end=period_end, quantity=quantity, unit_price=unit_price,
            tax_rate=tax_rate, net_amount=net, tax_amount=tax, total_amount=total,
        )


def invoice_number_next(*, year):
    """The next number of `year`, taken under a row lock held until the caller's
    transaction ends: a concurrent issue waits, and a rollback gives the number back."""
    InvoiceSequence.objects.bulk_create([InvoiceSequence(year=year)], ignore_conflicts=True)
    sequence = InvoiceSequence.objects.select_for_update().get(year=year)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return sequence.last_number


def invoice_issue(*, invoice, now):
    """1. Lock the draft (refuse one that is already issued).
    2. Freeze the totals (sums of the rounded lines), the customer and seller details.
    3. Take the next number of the year, in this same transaction.
    4. Once committed, render and store the PDF in a worker."""
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().select_related("customer").get(pk=invoice.pk)
        locked.ensure_draft()
        lines = list(locked.lines.all())
        if not lines:
            raise ValueError("An invoice needs at least one line")
        customer = locked.customer
        locked.subtotal = sum((line.net_amount for line in lines), money(0))
        locked.tax_total = sum((line.tax_amount for line in lines), money(0))
        locked.total = locked.subtotal + locked.tax_total
        locked.customer_nic_handle = customer.nic_handle
        locked.customer_name = customer.get_full_name()
        locked.customer_organisation = customer.organisation
        locked.customer_address = _postal_address(customer)
        locked.seller_name = settings.SELLER_NAME
        locked.seller_address = settings.SELLER_ADDRESS
        locked.seller_vat_number = settings.SELLER_VAT_NUMBER
        locked.year = now.year
        locked.sequence = invoice_number_next(year=now.year)
        locked.number = f"{NUMBER_PREFIX}{now.year}-{locked.sequence:06d}"
        locked.issued_at = now
        locked.due_at = locked.due_at or now
        locked.status = Invoice.Status.ISSUED
        locked.save()
        invoice_list_changed(customer_id=customer.pk)
        transaction.on_commit(lambda: _enqueue_pdf(locked.pk))
    invoice.refresh_from_db()
    return invoice


def _postal_address(customer):
    with translation.override(customer.language):
        country = str(customer.country.name) if customer.country else ""
    town = " ".join(part for part in (customer.zip, customer.city) if part)
    return "\n".join(part for part in (customer.address, town, country) if part)


def _enqueue_pdf(invoice_id):
    from billing.tasks import render_invoice_pdf_task

    try:
        render_invoice_pdf_task.delay(invoice_id)
    except Exception:
        # The invoice is committed; the PDF view renders a missing PDF on first download.
        log.warning("Could not enqueue the PDF of invoice %s", invoice_id, exc_info=True)


INVOICE_PDF_STYLESHEETS = ("css/invoice.css", "css/invoice-print.css")


def invoice_render_pdf(*, invoice):
    """The PDF of an issued invoice, from the same template and stylesheet as its HTML
    page (the stylesheets are read from the static files' source, not fetched)."""
    from django.contrib.staticfiles import finders
    from weasyprint import CSS, HTML

    with translation.override(invoice.customer.language):
        html = render_to_string("billing/invoice_print.html", {"invoice": invoice})
    stylesheets = [CSS(filename=finders.find(name), url_fetcher=_no_fetch)
                   for name in INVOICE_PDF_STYLESHEETS]
    return HTML(string=html, url_fetcher=_no_fetch).write_pdf(stylesheets=stylesheets)


def _no_fetch(url, *args, **kwargs):
    # The invoice template and its stylesheets are self-contained; nothing is loaded.
    raise ValueError(f"Invoice PDFs load no external resource ({url})")


def invoice_store_pdf(*, invoice_id):
    """Render the PDF of an issued invoice once and store it; a no-op when it is stored.

    Two renders at once (a retried task, a download racing the worker) both produce the
    same document; the first to record its file wins and the other removes its copy."""
    invoice = (Invoice.objects.select_related("customer").prefetch_related("lines")
               .get(pk=invoice_id, status=Invoice.Status.ISSUED))
    stored = invoice.pdf.name
    if stored and invoice.pdf.storage.exists(stored):
        return stored
    content = invoice_render_pdf(invoice=invoice)
    storage = invoice.pdf.storage
    name = storage.save(invoice.pdf_name(), ContentFile(content))
    if Invoice.objects.filter(pk=invoice.pk, pdf=stored).update(pdf=name):
        return name
    storage.delete(name)
    return Invoice.objects.values_list("pdf", flat=True).get(pk=invoice.pk)


def invoice_mark_paid(*, invoice, staff_user, now=None):
    """1. Claim the payment: only an issued, unpaid invoice changes (run twice: once).
    2. Deliver each service it bills: a new one starts now, a renewal extends the
       expiry to the end of the renewed period.
    3. Log it in the customer's security log and email the customer.
    Returns False when the invoice was already paid."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = Invoice.objects.filter(
            pk=invoice.pk, status=Invoice.Status.ISSUED, paid_at__isnull=True
        ).update(paid_at=now, paid_by=staff_user)
        if not claimed:
            return False
        invoice = Invoice.objects.select_related("customer").get(pk=invoice.pk)
        invoice_list_changed(customer_id=invoice.customer_id)
        delivered = []
        for line in invoice.lines.exclude(service=None).order_by("position"):
            service = (Service.objects.select_for_update(of=("self",)).select_related("product")
                       .get(pk=line.service_id))
            delivered.append(_service_deliver(service=service, line=line, now=now))
        security_log(user=invoice.customer, action=SecurityEvent.Action.STAFF_ACTION,
                     actor=staff_user, billing="invoice_marked_paid", invoice=invoice.number)
        if delivered:
            email_queue(
                template="service_delivered", to=invoice.customer.email, user=invoice.customer,
                context={"invoice": invoice, "services": delivered,
                         "services_path": reverse("billing:services")},
            )
    return True


def _service_deliver(*, service, line, now):
    if line.period_start is None:
        # A new service: its first period starts when it is paid for.
        service.delivered_at = service.delivered_at or now
        service.expires_at = period_end(now, line.period or service.period)
    elif service.expires_at is None or service.expires_at < line.period_end:
        service.expires_at = line.period_end
    service.status = Service.Status.ACTIVE
    service.save(update_fields=["delivered_at", "expires_at", "status"])
    return service


# --- orders -----------------------------------------------------------------------------

def order_quote(*, product, period):
    """What one period of `product` costs: an unsaved invoice line."""
    price = product.price_for(period)
    if price is None:
        raise PeriodNotSold(f"{product.code} is not sold by {period}")
    net, tax, total = line_amounts(unit_price=price, quantity=1, tax_rate=product.tax_rate)
    return InvoiceLine(product=product, period=period, quantity=1, unit_price=money(price),
                       tax_rate=product.tax_rate, net_amount=net, tax_amount=tax,
                       total_amount=total)


def order_place(*, customer, product, period, service_name, token=None, now=None):
    """1. The customer's order for one service, with the service awaiting payment.
    2. Its invoice, issued at once (number, PDF after commit).
    3. The order confirmation email with the NIC handle, in the same transaction.
    Submitting the same confirmation form twice (same `token`) returns the first order."""
    now = now or timezone.now()
    quote = order_quote(product=product, period=period)
    if token and (existing := Order.objects.filter(customer=customer, token=token).first()):
        return existing
    try:
        with transaction.atomic():
            order = Order.objects.create(customer=customer, created_at=now,
                                         **({"token": token} if token else {}))
            service = Service.objects.create(customer=customer, product=product,
                                             name=service_name, period=period, created_at=now)
            OrderLine.objects.create(order=order, product=product, service=service,
                                     period=period, unit_price=quote.unit_price,
                                     tax_rate=quote.tax_rate)
            invoice = invoice_create(customer=customer, kind=Invoice.Kind.ORDER, order=order,
                                     now=now)
            invoice_line_add(invoice=invoice, description=_line_description(service, period),
                             unit_price=quote.unit_price, tax_rate=quote.tax_rate,
                             product=product, service=service, period=period)
            invoice_issue(invoice=invoice, now=now)
            email_queue(
                template="order_confirmed", to=customer.email, user=customer,
                context={"order": order, "invoice": invoice, "service": service,
                         "invoice_path": reverse("billing:invoice", args=[invoice.number])},
            )
    except IntegrityError:
        existing = Order.objects.filter(customer=customer, token=token).first() if token else None
        if existing is None:
            raise
        return existing
    return order


def _line_description(service, period, start=None, end=None):
    """The line text, in the customer's language, frozen on the invoice."""
    with translation.override(service.customer.language):
        label = f"{service.product.name} – {service.name}"
        if start and end:
            return gettext("%(service)s, renewal from %(start)s to %(end)s") % {
                "service": label, "start": date_format(start, "SHORT_DATE_FORMAT"),
                "end": date_format(end, "SHORT_DATE_FORMAT")}
        if period == Period.MONTH:
            return gettext("%(service)s, 1 month") % {"service": label}
        return gettext("%(service)s, 1 year") % {"service": label}


# --- services ---------------------------------------------------------------------------

def service_set_auto_renew(*, service, auto_renew):
    Service.objects.filter(pk=service.pk).update(auto_renew=auto_renew)
    service.auto_renew = auto_renew
    return service


def services_expire_due(*, now):
    """Active services past their expiry become expired (a late payment revives them)."""
    return Service.objects.filter(status=Service.Status.ACTIVE, expires_at__lte=now).update(
        status=Service.Status.EXPIRED)


def renewals_issue_due(*, now):
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


def _renewal_issue(*, service_id, now):
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
        invoice_line_add(invoice=invoice, description=_line_description(service, service.period,
                                                                         start, end),
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
