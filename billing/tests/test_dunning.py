"""Unpaid invoices: a reminder at due + 3 days and + 10 days (each once), the services
suspended at + 15 days (the customer told), active again once the invoice is paid."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command

from billing.models import Invoice, Service
from billing.references import formatted, reference_for
from billing.services.dunning import invoices_dun_due
from billing.services.invoices import invoice_mark_paid
from billing.services.renewals import renewals_issue_due
from conftest import make_customer, run_at_once
from notifications.models import OutboundEmail

from .conftest import NOW, place_order

pytestmark = pytest.mark.django_db

DUE = NOW + timedelta(days=14)


@pytest.fixture
def unpaid(customer, hosting):
    """(invoice, service) of an order placed at NOW, due 14 days later."""
    _order, invoice, service = place_order(customer, hosting, name="shop.example", now=NOW)
    assert invoice.due_at == DUE
    return invoice, service


def run_at(moment):
    with time_machine.travel(moment, tick=False):
        return invoices_dun_due()


def emails(kind):
    return list(OutboundEmail.objects.filter(kind=kind).order_by("pk"))


def test_nothing_is_sent_two_days_after_the_due_date(unpaid):
    assert run_at(DUE + timedelta(days=2)) == {
        "suspended_at": 0, "second_reminder_at": 0, "first_reminder_at": 0}
    assert emails("invoice_reminder") == []


def test_the_first_reminder_goes_at_due_plus_3_days_once(unpaid, customer):
    invoice, _service = unpaid
    assert run_at(DUE + timedelta(days=3))["first_reminder_at"] == 1
    run_at(DUE + timedelta(days=3, hours=1))
    [email] = emails("invoice_reminder")
    assert email.to_address == customer.email
    assert f"Reminder: invoice {invoice.number} is unpaid" in email.subject
    reference = formatted(reference_for(invoice.number, customer.nic_handle))
    for body in (email.body_text, email.body_html):
        assert customer.nic_handle in body and "€60.38" in body and reference in body
        assert "FR76 3000 6000 0112 3456 7890 189" in body
        assert f"/billing/invoices/{invoice.number}/pay/" in body
    invoice.refresh_from_db()
    assert invoice.first_reminder_at == DUE + timedelta(days=3)


def test_the_second_reminder_goes_at_due_plus_10_days_once(unpaid):
    invoice, service = unpaid
    run_at(DUE + timedelta(days=3))
    run_at(DUE + timedelta(days=9))
    assert len(emails("invoice_reminder")) == 1
    assert run_at(DUE + timedelta(days=10))["second_reminder_at"] == 1
    run_at(DUE + timedelta(days=11))
    first, second = emails("invoice_reminder")
    assert second.subject.startswith(f"Second reminder: invoice {invoice.number}")
    service.refresh_from_db()
    assert service.status == Service.Status.PENDING


def test_the_services_are_suspended_at_due_plus_15_days_and_the_customer_told(unpaid, customer):
    invoice, service = unpaid
    for days in (3, 10, 14):
        run_at(DUE + timedelta(days=days))
    service.refresh_from_db()
    assert service.status != Service.Status.SUSPENDED
    assert run_at(DUE + timedelta(days=15))["suspended_at"] == 1
    run_at(DUE + timedelta(days=16))
    service.refresh_from_db()
    assert service.status == Service.Status.SUSPENDED
    [notice] = emails("services_suspended")
    assert notice.to_address == customer.email and invoice.number in notice.subject
    assert "shop.example" in notice.body_text and "suspended until it is paid" in notice.body_text
    assert len(emails("invoice_reminder")) == 2


def test_paying_reactivates_the_suspended_services_and_stops_the_reminders(
        customer, hosting, staff):
    # An active service whose renewal invoice stays unpaid.
    _order, first, service = place_order(customer, hosting, name="shop.example", now=NOW)
    invoice_mark_paid(invoice=first, staff_user=staff, now=NOW)
    service.refresh_from_db()
    renewal_day = service.expires_at - timedelta(days=15)
    [renewal] = renewals_issue_due(now=renewal_day)
    due = renewal.due_at
    run_at(due + timedelta(days=15))
    service.refresh_from_db()
    assert service.status == Service.Status.SUSPENDED
    invoice_mark_paid(invoice=renewal, staff_user=staff, now=due + timedelta(days=16))
    service.refresh_from_db()
    assert service.status == Service.Status.ACTIVE
    assert run_at(due + timedelta(days=40)) == {
        "suspended_at": 0, "second_reminder_at": 0, "first_reminder_at": 0}


def test_a_paid_invoice_gets_no_reminder(unpaid, staff):
    invoice, _service = unpaid
    invoice_mark_paid(invoice=invoice, staff_user=staff, now=DUE + timedelta(days=1))
    for days in (3, 10, 15):
        run_at(DUE + timedelta(days=days))
    assert emails("invoice_reminder") == [] and emails("services_suspended") == []


def test_a_job_that_runs_late_takes_only_the_step_reached(unpaid):
    invoice, service = unpaid
    run_at(DUE + timedelta(days=20))
    assert emails("invoice_reminder") == [] and len(emails("services_suspended")) == 1
    invoice.refresh_from_db()
    assert invoice.first_reminder_at == invoice.second_reminder_at == invoice.suspended_at
    run_at(DUE + timedelta(days=21))
    assert emails("invoice_reminder") == []


def test_the_billing_contact_and_the_holder_both_get_the_reminders(unpaid, customer,
                                                                   other_customer):
    invoice, service = unpaid
    Service.objects.filter(pk=service.pk).update(billing_contact=other_customer)
    run_at(DUE + timedelta(days=3))
    sent = {email.to_address: email for email in emails("invoice_reminder")}
    assert set(sent) == {customer.email, other_customer.email}
    contact = sent[other_customer.email]
    assert other_customer.nic_handle in contact.body_text
    assert "as the billing contact or the holder" in contact.body_text
    # The invoice's pages are its customer's only: no link the contact could not open.
    assert "/pay/" not in contact.body_text and "/pay/" in sent[customer.email].body_text


def test_the_command_runs_the_job(unpaid, capsys):
    with time_machine.travel(DUE + timedelta(days=3), tick=False):
        call_command("remind_unpaid_invoices")
    assert "First reminders: 1" in capsys.readouterr().out
    assert len(emails("invoice_reminder")) == 1


def test_beat_runs_the_job():
    entry = settings.CELERY_BEAT_SCHEDULE["billing-dun-unpaid-invoices"]
    assert entry["task"] == "billing.tasks.dun_unpaid_invoices_task"


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_on_postgresql_send_each_reminder_once(postgres, hosting):
    customers = [make_customer(f"late{n}@example.org") for n in range(6)]
    for n, owner in enumerate(customers):
        place_order(owner, hosting, name=f"site{n}.example", now=NOW)
    # `now` passed in: time-machine moves the clock of the whole process, not a thread.
    results, errors = run_at_once(lambda _n: invoices_dun_due(now=DUE + timedelta(days=3)), 4)
    assert errors == []
    assert sum(result["first_reminder_at"] for result in results) == len(customers)
    assert OutboundEmail.objects.filter(kind="invoice_reminder").count() == len(customers)
    results, errors = run_at_once(lambda _n: invoices_dun_due(now=DUE + timedelta(days=15)), 4)
    assert errors == []
    assert OutboundEmail.objects.filter(kind="services_suspended").count() == len(customers)
    assert Service.objects.filter(status=Service.Status.SUSPENDED).count() == len(customers)
    assert not Invoice.objects.filter(suspended_at__isnull=True).exists()
