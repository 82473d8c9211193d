"""/account/contacts/ and the services list: who sees which service, marked how."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from billing.models import Service
from billing.services import contacts as services
from billing.services.invoices import invoice_mark_paid

from .conftest import place_order

pytestmark = pytest.mark.django_db


def paid(customer, product, staff, name):
    _o, invoice, service = place_order(customer, product, name=name,
                                       now=timezone.now() - timedelta(days=1))
    invoice_mark_paid(invoice=invoice, staff_user=staff)
    service.refresh_from_db()
    return service


def test_a_new_service_has_its_owner_as_its_three_contacts(customer, hosting):
    _o, _i, service = place_order(customer, hosting)
    assert (service.admin_contact, service.tech_contact, service.billing_contact) == (
        customer, customer, customer)


def test_the_page_shows_my_services_with_their_contacts(customer_client, customer, hosting,
                                                        staff):
    service = paid(customer, hosting, staff, "shop.example")
    page = customer_client.get(reverse("contacts:contacts"))
    assert page.status_code == 200
    assert b"shop.example" in page.content
    assert page.content.count(customer.nic_handle.encode()) >= 3
    assert reverse("contacts:change-new", args=[service.pk]).encode() in page.content


def test_a_service_where_i_hold_a_role_for_someone_else_is_marked_with_it(
        customer, other_customer, hosting, staff):
    service = paid(customer, hosting, staff, "shop.example")
    Service.objects.filter(pk=service.pk).update(tech_contact=other_customer)
    client = Client()
    client.force_login(other_customer)
    page = client.get(reverse("contacts:contacts")).content.decode()
    held = page.split('id="held-services"')[1].split("</ul>")[0]
    assert "shop.example" in held and "Technical" in held and "Billing" not in held
    services = client.get(reverse("billing:services")).content.decode()
    assert "shop.example" in services and "Contact for another customer" in services
    # The renewal switch is the administrator contact's.
    assert reverse("billing:service-auto-renew", args=[service.pk]) not in services
    response = client.post(reverse("billing:service-auto-renew", args=[service.pk]),
                           {"auto_renew": "off"})
    assert response.status_code == 404


def test_another_customer_sees_none_of_my_services(customer, other_customer, hosting, staff):
    paid(customer, hosting, staff, "shop.example")
    client = Client()
    client.force_login(other_customer)
    assert b"shop.example" not in client.get(reverse("contacts:contacts")).content
    assert b"shop.example" not in client.get(reverse("billing:services")).content


def test_the_page_costs_the_same_queries_for_many_services(
        customer_client, customer, other_customer, hosting, staff):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert customer_client.get(reverse("contacts:contacts")).status_code == 200
        return len(captured)

    def more(start, count):
        for n in range(start, start + count):
            service = paid(customer, hosting, staff, f"s{n}.example")
            theirs = paid(other_customer, hosting, staff, f"t{n}.example")
            Service.objects.filter(pk=service.pk).update(billing_contact=other_customer)
            Service.objects.filter(pk=theirs.pk).update(tech_contact=customer)
            services.contact_change_request(service=service, requester=customer,
                                            roles=["tech"], target_nic_handle="zz999999-OVH")

    more(0, 1)
    few = queries()
    more(1, 12)
    assert queries() == few <= 9


def test_contacts_is_in_the_navigation(customer_client):
    page = customer_client.get(reverse("accounts:dashboard"))
    assert reverse("contacts:contacts").encode() in page.content


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_existing_services_their_owner_as_the_three_contacts(customer):
    before = [("billing", "0004_service_renewal_retry")]
    after = [("billing", "0007_service_contacts_required")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        old = executor.loader.project_state(before).apps
        Product = old.get_model("billing", "Product")
        OldService = old.get_model("billing", "Service")
        product = Product.objects.create(code="old", name="Old", kind="other",
                                         price_yearly="1.00")
        old_service = OldService.objects.create(
            customer_id=customer.pk, product=product, name="old.example", period="year",
            created_at=timezone.now())
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        new = executor.loader.project_state(after).apps.get_model("billing", "Service")
        row = new.objects.get(pk=old_service.pk)
        assert (row.admin_contact_id, row.tech_contact_id, row.billing_contact_id) == (
            customer.pk, customer.pk, customer.pk)
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
