import pytest

from accounts.services.common import RateLimited
from billing.tests.conftest import catalogue_product, place_order
from support.models import SupportMessage, SupportRequest
from support.services import OPEN_LIMIT, SupportRefused
from support.tests.conftest import PDF, open_request, png_bytes, upload

pytestmark = pytest.mark.django_db


def form(**overrides):
    data = {"category": "technical", "subject": "My site is down", "body": "Since this morning."}
    data.update(overrides)
    return data


def test_a_visitor_is_sent_to_the_login_page(client):
    response = client.get("/account/support/new/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_it_opens_a_request_under_the_nic_handle_with_a_readable_number(customer_client,
                                                                        customer):
    response = customer_client.post("/account/support/new/", form())
    support_request = SupportRequest.objects.get()
    assert support_request.number == f"SR{support_request.pk:06d}"
    assert response["Location"] == f"/account/support/{support_request.number}/"
    assert support_request.nic_handle == customer.nic_handle
    assert support_request.status == SupportRequest.Status.OPEN
    message = support_request.messages.get()
    assert (message.kind, message.author, message.body) == (
        SupportMessage.Kind.CUSTOMER, customer, "Since this morning.")
    page = customer_client.get(response["Location"]).content.decode()
    assert support_request.number in page and customer.nic_handle in page


def test_it_names_one_of_the_customers_services_and_invoices(customer_client, customer):
    _order, invoice, service = place_order(customer, catalogue_product("web-hosting"))
    customer_client.post("/account/support/new/", form(category="billing", service=service.pk,
                                                       invoice=invoice.pk))
    support_request = SupportRequest.objects.get()
    assert (support_request.service, support_request.invoice) == (service, invoice)


def test_another_customers_service_or_invoice_is_refused(customer_client, other_customer):
    _order, invoice, service = place_order(other_customer, catalogue_product("web-hosting"))
    response = customer_client.post("/account/support/new/", form(service=service.pk))
    assert "service" in response.context["form"].errors
    response = customer_client.post("/account/support/new/", form(invoice=invoice.pk))
    assert "invoice" in response.context["form"].errors
    assert not SupportRequest.objects.exists()


def test_the_service_refuses_another_customers_service(customer, other_customer):
    _order, _invoice, service = place_order(other_customer, catalogue_product("web-hosting"))
    with pytest.raises(SupportRefused):
        open_request(customer, service=service)


def test_it_takes_up_to_three_attachments(customer_client):
    files = [upload("report.pdf", PDF), upload("screen.png", png_bytes()),
             upload("notes.txt", "Ça marche pas\n".encode())]
    customer_client.post("/account/support/new/", {**form(), "attachments": files})
    attachments = SupportMessage.objects.get().attachments.order_by("pk")
    assert [(a.name, a.content_type) for a in attachments] == [
        ("report.pdf", "application/pdf"), ("screen.png", "image/png"),
        ("notes.txt", "text/plain")]


def test_opening_requests_is_rate_limited(customer_client):
    for _ in range(OPEN_LIMIT[0]):
        customer_client.post("/account/support/new/", form())
    response = customer_client.post("/account/support/new/", form())
    assert response.status_code == 200
    assert "Too many requests" in response.content.decode()
    assert SupportRequest.objects.count() == OPEN_LIMIT[0]


def test_the_rate_limit_is_per_customer(customer, other_customer):
    for _ in range(OPEN_LIMIT[0]):
        open_request(customer)
    with pytest.raises(RateLimited):
        open_request(customer)
    open_request(other_customer)
