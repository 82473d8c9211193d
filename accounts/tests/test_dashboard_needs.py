"""The dashboard answers "what needs me?": services expiring soon, what is left to pay,
orders awaiting payment, a pending email change and the last logins, each with its
action, in a fixed number of queries."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import SecurityEvent
from accounts.security import security_log
from billing.models import Invoice, Order, Service
from billing.selectors import amount_due
from billing.tests.conftest import NOW, bulk_invoices, catalogue_product, place_order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def hosting(db):
    return catalogue_product("web-hosting")


def bulk_rows(customer, count, *, start=1):
    """`count` services, unpaid invoices and orders awaiting payment for `customer`."""
    hosting = catalogue_product("web-hosting")
    Service.objects.bulk_create([
        Service(customer=customer, product=hosting, name=f"site{n}.example", period="year",
                status=Service.Status.ACTIVE, created_at=NOW, expires_at=NOW + timedelta(days=90 + n),
                admin_contact=customer, tech_contact=customer, billing_contact=customer)
        for n in range(count)], batch_size=500)
    orders = Order.objects.bulk_create([
        Order(customer=customer, created_at=NOW, number=n + 1) for n in range(count)],
        batch_size=500)
    invoices = bulk_invoices(customer, count, start=start)
    for order, invoice in zip(orders, invoices):
        invoice.order = order
    Invoice.objects.bulk_update(invoices, ["order"], batch_size=500)
    SecurityEvent.objects.bulk_create([
        SecurityEvent(user=customer, action=SecurityEvent.Action.LOGIN, ip_address="192.0.2.1",
                      created_at=NOW - timedelta(hours=n)) for n in range(count)])


def dashboard_queries(client):
    client.get("/account/")  # the session's first request records the session
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/account/")
    assert response.status_code == 200
    return len(queries)


def test_the_queries_do_not_grow_with_the_rows_behind_the_dashboard(client, customer,
                                                                     other_customer):
    bulk_rows(customer, 10)
    bulk_rows(other_customer, 1000, start=11)
    client.force_login(customer)
    few = dashboard_queries(client)
    client.force_login(other_customer)
    many = dashboard_queries(client)
    assert few == many
    assert many <= 16


def test_a_service_expiring_soon_comes_first_with_its_renewal_action(customer_client, customer):
    bulk_rows(customer, 3)
    hosting = catalogue_product("web-hosting")
    soon = Service.objects.create(
        customer=customer, product=hosting, name="soon.example", period="year",
        status=Service.Status.ACTIVE, created_at=NOW, expires_at=NOW + timedelta(days=5),
        auto_renew=False, admin_contact=customer, tech_contact=customer, billing_contact=customer)
    page = customer_client.get("/account/").content.decode()
    services = page[page.index('id="dashboard-services"'):page.index('id="dashboard-unpaid"')]
    assert services.index("soon.example") < services.index("site0.example")
    assert f'action="/billing/services/{soon.pk}/auto-renew/"' in services
    assert "Renew automatically" in services and "See all 4 services" in services


def test_unpaid_invoices_show_the_amount_due_and_how_to_pay(customer_client, customer):
    bulk_rows(customer, 3)
    page = customer_client.get("/account/").content.decode()
    unpaid = page[page.index('id="dashboard-unpaid"'):page.index('id="dashboard-orders"')]
    assert "€36.00" in unpaid and "3 unpaid invoices" in unpaid
    assert 'href="/billing/invoices/FR2026-000001/"' in unpaid and "See how to pay" in unpaid


def test_the_amount_due_counts_only_unpaid_issued_invoices(customer, hosting):
    place_order(customer, hosting, name="one.example")
    _order, paid, _service = place_order(customer, hosting, name="two.example")
    Invoice.objects.filter(pk=paid.pk).update(paid_at=NOW)
    assert amount_due(user=customer) == Decimal("60.38")  # 21 % VAT: a customer in Spain


def test_orders_awaiting_payment_are_listed_with_their_number(customer_client, customer, hosting):
    order, _invoice, _service = place_order(customer, hosting, name="mine.example")
    page = customer_client.get("/account/").content.decode()
    orders = page[page.index('id="dashboard-orders"'):page.index('id="dashboard-logins"')]
    assert f'href="/billing/orders/{order.pk}/">#1</a>' in orders
    assert "Web hosting – mine.example" in orders


def test_the_last_logins_come_from_the_security_log(customer_client, customer):
    # As a login writes it (accounts.security.security_log): the dashboard, seen once
    # already by the fixture, shows it at once.
    security_log(user=customer, action=SecurityEvent.Action.LOGIN, ip_address="198.51.100.7")
    page = customer_client.get("/account/").content.decode()
    logins = page[page.index('id="dashboard-logins"'):]
    assert "198.51.100.7" in logins and 'href="/account/security/"' in logins


def test_empty_states_say_what_to_do(customer_client):
    page = customer_client.get("/account/").content.decode()
    assert "You have no service yet" in page and 'href="/billing/orders/new/"' in page
    assert "Nothing to pay" in page
    assert "No order is waiting for payment" in page


def test_another_customers_rows_never_show(customer_client, customer, other_customer, hosting):
    place_order(other_customer, hosting, name="theirs.example")
    page = customer_client.get("/account/").content.decode()
    assert "theirs.example" not in page and "FR2026-000001" not in page
    assert "Nothing to pay" in page


def test_a_pending_email_change_shows_its_countdown(customer_client, customer):
    from accounts.models import EmailChangeRequest
    EmailChangeRequest.objects.create(
        user=customer, old_email=customer.email, new_email="new@example.org",
        code_hash="x", due_at=NOW + timedelta(hours=24), created_at=NOW)
    page = customer_client.get("/account/").content.decode()
    assert 'id="pending-email-change"' in page and "new@example.org" in page
    assert "1\xa0day" in page or "23\xa0hours" in page
    assert 'href="/account/email/"' in page
