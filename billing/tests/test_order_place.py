import uuid
from decimal import Decimal
from unittest import mock

import pytest
from django.core import mail
from kombu.exceptions import OperationalError

from billing.models import Invoice, Order, Service
from billing.services.orders import PeriodNotSold, order_place
from billing.tasks import render_invoice_pdf_task
from notifications.models import OutboundEmail
from portal.errors import DomainError

from .conftest import NOW, place_order

pytestmark = pytest.mark.django_db


def test_it_creates_the_order_its_pending_service_and_its_issued_invoice(customer, hosting):
    order, invoice, service = place_order(customer, hosting, period="month", name="shop.example.com")
    assert order.customer == customer and order.created_at == NOW
    assert service.status == Service.Status.PENDING
    assert (service.name, service.period, service.expires_at) == ("shop.example.com", "month", None)
    assert invoice.status == Invoice.Status.ISSUED and invoice.number == "FR2026-000001"
    assert invoice.kind == Invoice.Kind.ORDER and invoice.paid_at is None
    line = invoice.lines.get()
    assert line.service == service and line.period_start is None
    assert line.description == "Web hosting – shop.example.com, 1 month"
    assert (invoice.subtotal, invoice.tax_total, invoice.total) == (
        Decimal("4.99"), Decimal("1.05"), Decimal("6.04"))


def test_it_uses_the_yearly_price_for_a_year(customer, hosting):
    _order, invoice, _service = place_order(customer, hosting, period="year")
    assert invoice.total == Decimal("60.38")  # 49.90 + 21 % Spanish VAT (10.48)


def test_it_refuses_a_period_the_product_is_not_sold_for(customer, domain):
    with pytest.raises(PeriodNotSold):
        place_order(customer, domain, period="month")
    assert not Order.objects.exists() and not Invoice.objects.exists()


def test_the_confirmation_email_carries_the_nic_handle(customer, hosting,
                                                       django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order, invoice, _service = place_order(customer, hosting)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [customer.email]
    assert customer.nic_handle in message.subject
    assert "Order #1 confirmed" in message.subject
    html = message.alternatives[0][0]
    for body in (message.body, html):
        assert customer.nic_handle in body
        assert invoice.number in body
        assert "60.38" in body
        assert f"/billing/invoices/{invoice.number}/" in body
    assert OutboundEmail.objects.get(user=customer).kind == "order_confirmed"


def test_the_confirmation_email_is_in_the_customers_language(customer, hosting,
                                                             django_capture_on_commit_callbacks):
    customer.language = "es"
    customer.save()
    with django_capture_on_commit_callbacks(execute=True):
        place_order(customer, hosting)
    assert OutboundEmail.objects.get(user=customer).language == "es"
    assert customer.nic_handle in mail.outbox[0].body


def test_the_same_confirmation_twice_places_one_order(customer, hosting):
    token = uuid.uuid4()
    first = order_place(customer=customer, product=hosting, period="year",
                        service_name="example.com", quoted_total=Decimal("60.38"),
                        token=token, now=NOW)
    second = order_place(customer=customer, product=hosting, period="year",
                         service_name="example.com", quoted_total=Decimal("60.38"),
                         token=token, now=NOW)
    assert first == second
    assert Order.objects.count() == Invoice.objects.count() == Service.objects.count() == 1
    assert OutboundEmail.objects.count() == 1


def test_the_invoice_pdf_is_rendered_and_stored_after_commit(customer, hosting,
                                                             django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _order, invoice, _service = place_order(customer, hosting)
    invoice.refresh_from_db()
    assert invoice.pdf.name == f"invoices/2026/{invoice.number}.pdf"
    with invoice.pdf.open("rb") as stored:
        assert stored.read(5) == b"%PDF-"


def test_a_broker_outage_leaves_the_order_placed_and_the_pdf_for_later(
    customer, hosting, django_capture_on_commit_callbacks, caplog
):
    down = OperationalError("[Errno 111] Connection refused")
    with mock.patch.object(render_invoice_pdf_task, "apply_async", side_effect=down) as sent, \
            django_capture_on_commit_callbacks(execute=True):
        _order, invoice, _service = place_order(customer, hosting)
    assert list(sent.call_args.args[0]) == [invoice.pk]
    assert f"Could not enqueue billing.tasks.render_invoice_pdf_task({invoice.pk},)" in caplog.text
    invoice.refresh_from_db()
    assert invoice.number == "FR2026-000001" and not invoice.pdf


@pytest.mark.parametrize("quoted", [Decimal("60.38"), None])
def test_it_refuses_a_total_that_is_no_longer_the_price(customer, hosting, quoted):
    hosting.price_yearly = Decimal("59.90")
    hosting.save()
    with pytest.raises(DomainError) as refused:
        order_place(customer=customer, product=hosting, period="year",
                    service_name="example.com", quoted_total=quoted, now=NOW)
    assert refused.value.code == "price_changed" and refused.value.field is None
    assert "The price has changed" in refused.value.message
    assert not Order.objects.exists() and not Invoice.objects.exists()
    assert order_place(customer=customer, product=hosting, period="year",
                       service_name="example.com", quoted_total=Decimal("72.48"), now=NOW)
