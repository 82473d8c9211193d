"""Admin: "Mark paid" records a payment; bank statements are imported by staff holding the
permission; credit notes are issued from an invoice's page."""

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile

from billing import references
from billing.models import BankStatement, CreditNote, Invoice, Payment, StatementEntry
from conftest import staff_log_in
from portal.tests.hostile import Upload

from .camt_builder import Credit, statement
from .conftest import place_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, staff):
    return staff_log_in(client, staff)


def upload(client, content, name="statement.xml"):
    return client.post("/admin/billing/bankstatement/add/",
                       {"statement": SimpleUploadedFile(name, content, "text/xml")}, follow=True)


def test_mark_paid_records_a_payment_of_the_full_amount_due(staff_client, customer, hosting,
                                                            staff):
    _o, invoice, _s = place_order(customer, hosting)
    staff_client.post("/admin/billing/invoice/", {"action": "mark_paid",
                                                  "_selected_action": [invoice.pk]})
    payment = Payment.objects.get(invoice=invoice)
    assert (payment.amount, payment.method, payment.recorded_by) == (
        invoice.total, Payment.Method.MANUAL, staff)
    assert Invoice.objects.get(pk=invoice.pk).amount_due == 0


def test_staff_import_a_statement_and_see_the_entries_to_review(staff_client, customer, hosting,
                                                                staff):
    _o, invoice, _s = place_order(customer, hosting)
    reference = references.reference_for(invoice.number, customer.nic_handle)
    response = upload(staff_client, statement([
        Credit(invoice.total, "BANK-1", structured=reference),
        Credit("7.00", "BANK-2", unstructured="no idea")]))
    page = response.content.decode()
    assert "Statement imported: 2 new credit entries (1 to review)" in page
    assert "BANK-2" in page and "No payment reference and no NIC handle" in page
    assert Invoice.objects.get(pk=invoice.pk).is_paid
    log = LogEntry.objects.get(action_flag=ADDITION, user=staff)
    assert log.object_id == str(BankStatement.objects.get().pk)
    review = staff_client.get("/admin/billing/statemententry/", {"review": "yes"}).content.decode()
    assert "BANK-2" in review and "BANK-1" not in review


def test_an_invalid_file_is_refused_in_the_page_and_nothing_is_recorded(staff_client, customer):
    response = upload(staff_client, b"definitely, not; xml")
    assert response.status_code == 200
    assert "This file is not XML" in response.content.decode()
    assert not BankStatement.objects.exists() and not StatementEntry.objects.exists()
    assert not LogEntry.objects.filter(action_flag=ADDITION).exists()


def test_a_post_whose_file_part_was_dropped_says_the_file_is_required(staff_client):
    # Regression: a file named "." is dropped by the parser, and the page came back empty
    # without saying why.
    response = staff_client.post("/admin/billing/bankstatement/add/",
                                 {"statement": Upload(".", b"<x/>", "text/xml")})
    assert response.status_code == 200
    assert response.context["form"].errors["statement"] == ["This field is required."]
    assert not BankStatement.objects.exists()


def test_a_support_agent_without_the_permission_cannot_import(agent_client, support_agent,
                                                              customer, hosting):
    _o, invoice, _s = place_order(customer, hosting)
    reference = references.reference_for(invoice.number, customer.nic_handle)
    content = statement([Credit(invoice.total, "BANK-1", structured=reference)])
    assert agent_client.get("/admin/billing/bankstatement/add/").status_code == 403
    assert upload(agent_client, content).status_code == 403
    assert not Invoice.objects.get(pk=invoice.pk).is_paid
    support_agent.user_permissions.add(Permission.objects.get(codename="import_bankstatement"))
    assert upload(agent_client, content).status_code == 200
    assert Invoice.objects.get(pk=invoice.pk).is_paid


def test_staff_issue_a_credit_note_from_the_invoice_page(staff_client, customer, hosting, staff):
    _o, invoice, _s = place_order(customer, hosting)
    page = staff_client.get(f"/admin/billing/invoice/{invoice.pk}/change/").content.decode()
    assert f"/admin/billing/invoice/{invoice.pk}/credit-note/" in page
    form_url = f"/admin/billing/invoice/{invoice.pk}/credit-note/"
    line = invoice.lines.get()
    refused = staff_client.post(form_url, {"lines": [line.pk], "reason": ""})
    assert "This field is required." in refused.content.decode()
    response = staff_client.post(form_url, {"lines": [line.pk], "reason": "Duplicate order"},
                                 follow=True)
    assert "Credit note AV2026-000001 issued" in response.content.decode()
    note = CreditNote.objects.get()
    assert (note.reason, note.total, note.issued_by) == ("Duplicate order", invoice.total, staff)
    assert LogEntry.objects.filter(action_flag=ADDITION, object_id=str(note.pk)).exists()
    # The line is credited: it is no longer offered, and posting it again is refused.
    again = staff_client.post(form_url, {"lines": [line.pk], "reason": "Again"})
    assert "Select a valid choice" in again.content.decode()
    assert CreditNote.objects.count() == 1


def test_a_support_agent_cannot_issue_a_credit_note(agent_client, customer, hosting):
    _o, invoice, _s = place_order(customer, hosting)
    response = agent_client.post(f"/admin/billing/invoice/{invoice.pk}/credit-note/",
                                 {"lines": [invoice.lines.get().pk], "reason": "x"})
    assert response.status_code == 403
    assert not CreditNote.objects.exists()
