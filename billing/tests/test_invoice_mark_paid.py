from datetime import datetime, timezone

import pytest
from django.core import mail

from accounts.models import SecurityEvent
from billing.models import Service
from billing.services.invoices import invoice_mark_paid

from .conftest import place_order

pytestmark = pytest.mark.django_db

PAID = datetime(2026, 3, 12, 15, 0, tzinfo=timezone.utc)


def test_it_records_the_payment_and_delivers_the_service_for_its_period(customer, hosting, staff):
    _o, invoice, service = place_order(customer, hosting, period="month")
    assert invoice_mark_paid(invoice=invoice, staff_user=staff, now=PAID) is True
    invoice.refresh_from_db()
    service.refresh_from_db()
    assert (invoice.paid_at, invoice.paid_by) == (PAID, staff)
    assert service.status == Service.Status.ACTIVE
    assert service.delivered_at == PAID
    assert service.expires_at == datetime(2026, 4, 12, 15, 0, tzinfo=timezone.utc)


def test_a_yearly_service_expires_a_year_after_payment(customer, domain, staff):
    _o, invoice, service = place_order(customer, domain, name="example.com")
    invoice_mark_paid(invoice=invoice, staff_user=staff, now=PAID)
    service.refresh_from_db()
    assert service.expires_at == datetime(2027, 3, 12, 15, 0, tzinfo=timezone.utc)


def test_it_emails_the_customer_with_the_nic_handle_and_the_expiry(
    customer, hosting, staff, django_capture_on_commit_callbacks
):
    _o, invoice, _service = place_order(customer, hosting, name="shop.example")
    with django_capture_on_commit_callbacks(execute=True):
        invoice_mark_paid(invoice=invoice, staff_user=staff, now=PAID)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [customer.email]
    assert customer.nic_handle in message.subject and invoice.number in message.subject
    for body in (message.body, message.alternatives[0][0]):
        assert customer.nic_handle in body
        assert "shop.example" in body and "active until March 12, 2027" in body


def test_paying_twice_changes_nothing_the_second_time(
    customer, hosting, staff, django_capture_on_commit_callbacks
):
    _o, invoice, service = place_order(customer, hosting)
    with django_capture_on_commit_callbacks(execute=True):
        assert invoice_mark_paid(invoice=invoice, staff_user=staff, now=PAID) is True
        later = datetime(2026, 5, 1, tzinfo=timezone.utc)
        assert invoice_mark_paid(invoice=invoice, staff_user=staff, now=later) is False
    service.refresh_from_db()
    invoice.refresh_from_db()
    assert invoice.paid_at == PAID
    assert service.expires_at == datetime(2027, 3, 12, 15, 0, tzinfo=timezone.utc)
    assert len(mail.outbox) == 1


def test_it_keeps_the_document_as_issued(customer, hosting, staff):
    _o, invoice, _service = place_order(customer, hosting)
    before = {f: getattr(invoice, f) for f in ("number", "issued_at", "total", "customer_address")}
    invoice_mark_paid(invoice=invoice, staff_user=staff, now=PAID)
    invoice.refresh_from_db()
    assert {f: getattr(invoice, f) for f in before} == before


def test_it_is_in_the_customers_security_log(customer, hosting, staff):
    _o, invoice, _service = place_order(customer, hosting)
    invoice_mark_paid(invoice=invoice, staff_user=staff, now=PAID)
    event = SecurityEvent.objects.get(user=customer, action=SecurityEvent.Action.STAFF_ACTION)
    assert event.actor == staff
    assert event.detail == {"billing": "invoice_marked_paid", "invoice": invoice.number}
