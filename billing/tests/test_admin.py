import pytest
from django.core import mail

from billing.models import Invoice, Service

from .conftest import place_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def test_staff_mark_an_invoice_paid_from_the_list(staff_client, customer, hosting, staff,
                                                  django_capture_on_commit_callbacks):
    _o, invoice, service = place_order(customer, hosting)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post("/admin/billing/invoice/", {
            "action": "mark_paid", "_selected_action": [invoice.pk]}, follow=True)
    assert "1 invoice marked paid." in response.content.decode()
    invoice.refresh_from_db()
    assert invoice.paid_by == staff and invoice.paid_at is not None
    assert Service.objects.get(pk=service.pk).status == Service.Status.ACTIVE
    assert [m.to for m in mail.outbox] == [[customer.email]]


def test_an_issued_invoice_is_read_only_in_admin(staff_client, customer, hosting):
    _o, invoice, _service = place_order(customer, hosting)
    page = staff_client.get(f"/admin/billing/invoice/{invoice.pk}/change/").content.decode()
    assert invoice.number in page and customer.nic_handle in page
    assert 'name="total"' not in page and 'name="_save"' not in page
    response = staff_client.post(f"/admin/billing/invoice/{invoice.pk}/change/",
                                 {"total": "0.00", "customer_name": "Someone else"})
    assert response.status_code == 403
    assert Invoice.objects.get(pk=invoice.pk).customer_name == "Daniel Martín"


def test_invoices_cannot_be_added_or_deleted_in_admin(staff_client, customer, hosting):
    _o, invoice, _service = place_order(customer, hosting)
    assert staff_client.get("/admin/billing/invoice/add/").status_code == 403
    assert staff_client.get(f"/admin/billing/invoice/{invoice.pk}/delete/").status_code == 403


def test_staff_find_invoices_by_nic_handle(staff_client, customer, other_customer, hosting):
    _o, mine, _s = place_order(customer, hosting)
    _o, theirs, _s = place_order(other_customer, hosting)
    page = staff_client.get("/admin/billing/invoice/", {"q": customer.nic_handle}).content.decode()
    assert mine.number in page and theirs.number not in page



def test_a_support_agent_marks_an_invoice_paid_but_cannot_edit_or_delete_it(
    agent_client, customer, hosting
):
    _order, invoice, service = place_order(customer, hosting)
    assert agent_client.get("/admin/billing/order/").status_code == 200
    assert agent_client.get("/admin/billing/service/").status_code == 200
    agent_client.post("/admin/billing/invoice/", {"action": "mark_paid",
                                                  "_selected_action": [invoice.pk]})
    invoice.refresh_from_db()
    assert invoice.paid_at is not None
    total = invoice.total
    agent_client.post(f"/admin/billing/invoice/{invoice.pk}/change/", {"total": "0.01"})
    assert agent_client.post(f"/admin/billing/invoice/{invoice.pk}/delete/",
                             {"post": "yes"}).status_code == 403
    invoice.refresh_from_db()
    assert invoice.total == total
