import pytest
from django.core import mail

from accounts.models import SecurityEvent
from billing.models import Invoice, Service
from conftest import staff_log_in

from .conftest import place_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, staff):
    return staff_log_in(client, staff)


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


def service_form(service, **changes):
    """The service's change form as admin shows it, with `changes`."""
    expires = service.expires_at
    data = {"name": service.name, "period": service.period, "status": service.status,
            "auto_renew": "on" if service.auto_renew else "",
            "expires_at_0": expires.strftime("%Y-%m-%d") if expires else "",
            "expires_at_1": expires.strftime("%H:%M:%S") if expires else ""}
    data.update(changes)
    return {name: value for name, value in data.items() if value != ""}


def test_a_staff_edit_of_a_service_is_logged_and_the_customer_is_told(
    staff_client, staff, customer, hosting, django_capture_on_commit_callbacks
):
    _order, _invoice, service = place_order(customer, hosting, name="shop.example")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(f"/admin/billing/service/{service.pk}/change/",
                                     service_form(service, status="active", auto_renew="",
                                                  expires_at_0="2027-03-12",
                                                  expires_at_1="12:00:00"))
    assert response.status_code == 302
    service.refresh_from_db()
    assert service.status == "active" and service.auto_renew is False
    event = customer.security_events.get(action=SecurityEvent.Action.STAFF_ACTION)
    assert event.actor == staff
    assert event.detail == {"what": "service_edit", "service": service.pk,
                            "name": "shop.example",
                            "fields": ["auto_renew", "expires_at", "status"]}
    [message] = mail.outbox
    assert message.to == [customer.email] and customer.nic_handle in message.subject
    for body in (message.body, message.alternatives[0][0]):
        assert "Our support team changed your service shop.example." in body
        assert "Fields changed: automatic renewal, expires, status." in body


def test_saving_a_service_unchanged_logs_nothing_and_sends_nothing(
    staff_client, customer, hosting, django_capture_on_commit_callbacks
):
    _order, _invoice, service = place_order(customer, hosting)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(f"/admin/billing/service/{service.pk}/change/",
                                     service_form(service))
    assert response.status_code == 302
    assert not customer.security_events.filter(action=SecurityEvent.Action.STAFF_ACTION).exists()
    assert mail.outbox == []
