"""Prepare the benchmark database: a customer with 1,000 issued invoices (one of them
from a real order, with its PDF rendered and stored; the oldest PAID of them paid by
bank transfer, the others unpaid, so the pay page and the balance have something due
and a list of payments), 30 security log events and a logged-in session.

Run with DJANGO_SETTINGS_MODULE=benchmarks.settings; prints JSON for the benchmark."""

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from unittest import mock

import django

django.setup()

from django.db import connection  # noqa: E402
from django.middleware.csrf import CSRF_SECRET_LENGTH  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils.crypto import get_random_string  # noqa: E402

from accounts.models import SecurityEvent  # noqa: E402
from accounts.services import account_create  # noqa: E402
from billing.models import Invoice, InvoiceSequence, Payment, Product  # noqa: E402
from billing.services.invoices import invoice_store_pdf  # noqa: E402
from billing.services.orders import order_place, order_quote  # noqa: E402
from notifications.services import email_queue  # noqa: E402

INVOICES = 1000
PAID = 50  # paid by transfer; the rest of the invoices stay due
SECURITY_EVENTS = 30  # the security page shows 20
ORDERS = 20  # each with its service and invoice: a full page of orders and of services
EMAILS = 30  # the email history shows 20 a page
YEAR = 2025


def main():
    customer = account_create(
        email="bench@example.org", password="bench-password-123", first_name="Bea",
        last_name="Bench", address="1 Bench Street", city="Roubaix", zip="59100",
        country="FR", send_confirmation=False,
    )
    start = datetime(YEAR, 1, 1, 8, 0, tzinfo=timezone.utc)
    # Older invoices, written in bulk: the list reads only the invoice rows.
    Invoice.objects.bulk_create([
        Invoice(customer=customer, kind=Invoice.Kind.RENEWAL, status=Invoice.Status.ISSUED,
                created_at=start, issued_at=start + timedelta(hours=n), due_at=start,
                year=YEAR, sequence=n, number=f"FR{YEAR}-{n:06d}",
                customer_nic_handle=customer.nic_handle, customer_name="Bea Bench",
                subtotal=Decimal("10.00"), tax_total=Decimal("2.00"), total=Decimal("12.00"))
        for n in range(1, INVOICES)
    ], batch_size=500)
    InvoiceSequence.objects.create(year=YEAR, last_number=INVOICES - 1)
    paid = list(Invoice.objects.filter(customer=customer).order_by("sequence")[:PAID])
    Payment.objects.bulk_create([
        Payment(invoice=invoice, amount=invoice.total, received_on=invoice.issued_at.date(),
                method=Payment.Method.BANK_TRANSFER, bank_reference=f"BENCH-{invoice.pk}",
                recorded_at=invoice.issued_at + timedelta(days=3))
        for invoice in paid])
    Invoice.objects.filter(pk__in=[invoice.pk for invoice in paid]).update(
        paid_at=start + timedelta(days=3))
    hosting = Product.objects.get(code="web-hosting")
    order = order_place(customer=customer, product=hosting, period="year",
                        service_name="bench.example",
                        quoted_total=order_quote(product=hosting, period="year",
                                                 customer=customer).total_amount,
                        now=datetime(YEAR + 1, 2, 1, tzinfo=timezone.utc))
    invoice_store_pdf(invoice_id=order.invoice.pk)
    for n in range(1, ORDERS):
        order_place(customer=customer, product=hosting, period="year",
                    service_name=f"bench{n}.example",
                    quoted_total=order_quote(product=hosting, period="year",
                                             customer=customer).total_amount,
                    now=datetime(YEAR + 1, 2, 1, tzinfo=timezone.utc))
    with mock.patch("notifications.services.task_send_on_commit"):
        for _ in range(EMAILS):
            email_queue(template="password_changed", to=customer.email, user=customer,
                        context={"ip": "198.51.100.7", "how": "change"})
    SecurityEvent.objects.bulk_create([
        SecurityEvent(user=customer, action=action, ip_address="198.51.100.7",
                      user_agent="Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Firefox/120.0")
        for action in [SecurityEvent.Action.LOGIN, SecurityEvent.Action.PASSWORD_CHANGED,
                       SecurityEvent.Action.PROFILE_CHANGED] * (SECURITY_EVENTS // 3)
    ])
    client = Client()
    client.force_login(customer)
    # A logged-in browser also holds the CSRF cookie it got with the login form.
    csrf_cookie = get_random_string(CSRF_SECRET_LENGTH)
    # Planner statistics for the rows just written, as autovacuum keeps them in
    # production: without them PostgreSQL guesses, and a page can read all 1,000
    # invoices to join twenty orders.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(json.dumps({
        "session_cookie": f"sessionid={client.cookies['sessionid'].value}; "
                          f"csrftoken={csrf_cookie}",
        "invoices": Invoice.objects.filter(customer=customer).count(),
        "unpaid": Invoice.objects.filter(customer=customer, paid_at=None).count(),
        "pdf_number": order.invoice.number,
        "order_id": order.pk,
    }))


if __name__ == "__main__":
    main()
