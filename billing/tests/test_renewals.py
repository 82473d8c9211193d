from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
import time_machine
from django.core import mail

from billing.models import Invoice, Service
from billing.services import renewals
from billing.services.invoices import invoice_mark_paid
from billing.services.renewals import renewals_issue_due, services_expire_due
from billing.tasks import expire_services_task, issue_renewals_task
from conftest import make_customer, run_at_once

from .conftest import place_order

pytestmark = pytest.mark.django_db

PAID = datetime(2026, 3, 12, 12, 0, tzinfo=timezone.utc)
EXPIRY = datetime(2027, 3, 12, 12, 0, tzinfo=timezone.utc)
SIXTEEN_DAYS_BEFORE = datetime(2027, 2, 24, 11, 0, tzinfo=timezone.utc)
FIFTEEN_DAYS_BEFORE = datetime(2027, 2, 25, 12, 0, tzinfo=timezone.utc)


def active_service(customer, product, staff, name="example.com"):
    _order, invoice, service = place_order(customer, product, name=name)
    invoice_mark_paid(invoice=invoice, staff_user=staff, now=PAID)
    service.refresh_from_db()
    assert service.expires_at == EXPIRY
    return service


def renewals_of(service):
    return Invoice.objects.filter(kind=Invoice.Kind.RENEWAL, lines__service=service)


def test_it_issues_the_renewal_invoice_15_days_before_expiry(customer, hosting, staff):
    service = active_service(customer, hosting, staff)
    assert renewals_issue_due(now=SIXTEEN_DAYS_BEFORE) == []
    [invoice] = renewals_issue_due(now=FIFTEEN_DAYS_BEFORE)
    assert invoice.customer == customer and invoice.kind == Invoice.Kind.RENEWAL
    assert invoice.number == "FR2027-000001" and invoice.issued_at == FIFTEEN_DAYS_BEFORE
    assert invoice.due_at == FIFTEEN_DAYS_BEFORE + timedelta(days=14) and invoice.total == Decimal("60.38")
    line = invoice.lines.get()
    assert line.service == service
    assert (line.period_start, line.period_end) == (EXPIRY, datetime(2028, 3, 12, 12, 0, tzinfo=timezone.utc))
    assert line.description == "Web hosting – example.com, renewal from 03/12/2027 to 03/12/2028"


def test_the_renewal_email_carries_the_nic_handle(customer, hosting, staff,
                                                  django_capture_on_commit_callbacks):
    active_service(customer, hosting, staff, name="shop.example")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        [invoice] = renewals_issue_due(now=FIFTEEN_DAYS_BEFORE)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [customer.email]
    assert customer.nic_handle in message.subject and "shop.example" in message.subject
    for body in (message.body, message.alternatives[0][0]):
        assert customer.nic_handle in body
        assert invoice.number in body and "€60.38" in body
        assert "March 12, 2027" in body and "March 12, 2028" in body
        assert f"/billing/invoices/{invoice.number}/" in body


def test_running_it_twice_issues_one_invoice_and_one_email(customer, hosting, staff,
                                                           django_capture_on_commit_callbacks):
    service = active_service(customer, hosting, staff)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        first = renewals_issue_due(now=FIFTEEN_DAYS_BEFORE)
        second = renewals_issue_due(now=FIFTEEN_DAYS_BEFORE)
        third = renewals_issue_due(now=datetime(2027, 3, 1, tzinfo=timezone.utc))
    assert len(first) == 1 and second == [] and third == []
    assert renewals_of(service).count() == 1
    assert len(mail.outbox) == 1


def test_the_beat_task_uses_the_current_time(customer, hosting, staff):
    service = active_service(customer, hosting, staff)
    with time_machine.travel(SIXTEEN_DAYS_BEFORE, tick=False):
        assert issue_renewals_task.delay().get() == 0
    with time_machine.travel(FIFTEEN_DAYS_BEFORE, tick=False):
        assert issue_renewals_task.delay().get() == 1
        assert issue_renewals_task.delay().get() == 0
    assert renewals_of(service).count() == 1


def test_it_skips_services_without_automatic_renewal_or_not_active(customer, hosting, staff):
    off = active_service(customer, hosting, staff, name="off.example")
    Service.objects.filter(pk=off.pk).update(auto_renew=False)
    place_order(customer, hosting, name="never-paid.example")  # pending, no expiry
    cancelled = active_service(customer, hosting, staff, name="cancelled.example")
    Service.objects.filter(pk=cancelled.pk).update(status=Service.Status.CANCELLED)
    assert renewals_issue_due(now=FIFTEEN_DAYS_BEFORE) == []


def test_paying_the_renewal_extends_the_service_and_the_next_one_comes_a_year_later(
    customer, hosting, staff
):
    service = active_service(customer, hosting, staff)
    [renewal] = renewals_issue_due(now=FIFTEEN_DAYS_BEFORE)
    invoice_mark_paid(invoice=renewal, staff_user=staff, now=datetime(2027, 3, 1, tzinfo=timezone.utc))
    service.refresh_from_db()
    assert service.expires_at == datetime(2028, 3, 12, 12, 0, tzinfo=timezone.utc)
    assert service.delivered_at == PAID
    assert renewals_issue_due(now=datetime(2028, 2, 24, tzinfo=timezone.utc)) == []
    [next_one] = renewals_issue_due(now=datetime(2028, 2, 27, tzinfo=timezone.utc))
    assert next_one.lines.get().period_start == service.expires_at
    assert next_one.number == "FR2028-000001"


def test_it_bills_the_current_price(customer, hosting, staff):
    active_service(customer, hosting, staff)
    hosting.price_yearly = Decimal("54.90")
    hosting.save()
    [invoice] = renewals_issue_due(now=FIFTEEN_DAYS_BEFORE)
    assert invoice.subtotal == Decimal("54.90") and invoice.total == Decimal("66.43")


def test_a_service_that_cannot_be_renewed_does_not_block_the_others(customer, hosting, domain,
                                                                    staff, caplog):
    active_service(customer, hosting, staff, name="hosting.example")
    domain_service = active_service(customer, domain, staff, name="example.com")
    hosting.price_yearly = None  # no longer sold by the year
    hosting.save()
    issued = renewals_issue_due(now=FIFTEEN_DAYS_BEFORE)
    assert [i.lines.get().service for i in issued] == [domain_service]
    assert "Could not issue the renewal" in caplog.text


def test_a_failing_renewal_is_pushed_later_so_it_cannot_fill_the_batch(
    customer, hosting, domain, staff, monkeypatch, caplog
):
    monkeypatch.setattr(renewals, "RENEWAL_BATCH", 1)
    failing = active_service(customer, hosting, staff, name="hosting.example")
    other = active_service(customer, domain, staff, name="example.com")
    Service.objects.filter(pk=failing.pk).update(expires_at=EXPIRY - timedelta(days=1))
    hosting.price_yearly = None  # no longer sold by the year: its renewal fails
    hosting.save()
    assert renewals_issue_due(now=FIFTEEN_DAYS_BEFORE) == []
    assert "Could not issue the renewal" in caplog.text
    [issued] = renewals_issue_due(now=FIFTEEN_DAYS_BEFORE)
    assert issued.lines.get().service == other
    failing.refresh_from_db()
    assert failing.renewal_attempts == 1
    assert failing.renewal_retry_at == FIFTEEN_DAYS_BEFORE + timedelta(hours=1)


def test_a_failing_renewal_waits_twice_as_long_after_each_failure_and_recovers(
    customer, hosting, staff
):
    service = active_service(customer, hosting, staff)
    hosting.price_yearly = None
    hosting.save()
    now = FIFTEEN_DAYS_BEFORE
    for attempts, delay in ((1, 1), (2, 2), (3, 4), (4, 8)):
        assert renewals_issue_due(now=now) == []
        service.refresh_from_db()
        assert service.renewal_attempts == attempts
        assert service.renewal_retry_at == now + timedelta(hours=delay)
        renewals_issue_due(now=service.renewal_retry_at - timedelta(seconds=1))  # not yet
        service.refresh_from_db()
        assert service.renewal_attempts == attempts
        now = service.renewal_retry_at
    hosting.price_yearly = Decimal("49.90")
    hosting.save()
    [invoice] = renewals_issue_due(now=now)
    service.refresh_from_db()
    assert (service.renewal_attempts, service.renewal_retry_at) == (0, None)
    assert invoice.lines.get().period_start == EXPIRY


def test_the_wait_is_capped_at_a_week(customer, hosting, staff):
    service = active_service(customer, hosting, staff)
    Service.objects.filter(pk=service.pk).update(renewal_attempts=12)
    hosting.price_yearly = None
    hosting.save()
    renewals_issue_due(now=FIFTEEN_DAYS_BEFORE)
    service.refresh_from_db()
    assert service.renewal_attempts == 13
    assert service.renewal_retry_at == FIFTEEN_DAYS_BEFORE + timedelta(days=7)


def test_an_unpaid_service_expires_and_a_late_payment_revives_it(customer, hosting, staff):
    service = active_service(customer, hosting, staff)
    [renewal] = renewals_issue_due(now=FIFTEEN_DAYS_BEFORE)
    assert services_expire_due(now=datetime(2027, 3, 12, 11, 59, tzinfo=timezone.utc)) == 0
    with time_machine.travel(datetime(2027, 3, 13, tzinfo=timezone.utc), tick=False):
        assert expire_services_task.delay().get() == 1
    service.refresh_from_db()
    assert service.status == Service.Status.EXPIRED
    assert renewals_issue_due(now=datetime(2027, 3, 14, tzinfo=timezone.utc)) == []
    invoice_mark_paid(invoice=renewal, staff_user=staff, now=datetime(2027, 3, 20, tzinfo=timezone.utc))
    service.refresh_from_db()
    assert service.status == Service.Status.ACTIVE
    assert service.expires_at == datetime(2028, 3, 12, 12, 0, tzinfo=timezone.utc)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_on_postgresql_issue_one_invoice_per_service(postgres, hosting):
    staff = make_customer("staff@example.com", first_name="Sam", last_name="Staff")
    services = [active_service(make_customer(f"renew{n}@example.org"), hosting, staff,
                               name=f"site{n}.example") for n in range(10)]
    results, errors = run_at_once(
        lambda _n: len(renewals_issue_due(now=FIFTEEN_DAYS_BEFORE)), 4)
    assert errors == []
    assert sum(results) == len(services)
    for service in services:
        assert renewals_of(service).count() == 1
    numbers = sorted(Invoice.objects.filter(kind=Invoice.Kind.RENEWAL).values_list("sequence", flat=True))
    assert numbers == list(range(1, len(services) + 1))


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_on_postgresql_count_a_failure_once(postgres, hosting, domain):
    staff = make_customer("staff@example.com", first_name="Sam", last_name="Staff")
    failing = [active_service(make_customer(f"fail{n}@example.org"), hosting, staff,
                              name=f"site{n}.example") for n in range(5)]
    renewed = [active_service(make_customer(f"ok{n}@example.org"), domain, staff,
                              name=f"site{n}.com") for n in range(5)]
    hosting.price_yearly = None
    hosting.save()
    results, errors = run_at_once(
        lambda _n: len(renewals_issue_due(now=FIFTEEN_DAYS_BEFORE)), 4)
    assert errors == [] and sum(results) == len(renewed)
    for service in renewed:
        assert renewals_of(service).count() == 1
    for service in failing:
        service.refresh_from_db()
        assert renewals_of(service).count() == 0
        assert service.renewal_attempts == 1
        assert service.renewal_retry_at == FIFTEEN_DAYS_BEFORE + timedelta(hours=1)
