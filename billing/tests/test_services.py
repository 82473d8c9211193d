import pytest

from billing.models import Service
from billing.services.invoices import invoice_mark_paid

from .conftest import place_order

pytestmark = pytest.mark.django_db


def test_it_lists_the_customers_services(customer_client, customer, other_customer, hosting,
                                         domain, staff):
    _o, invoice, _s = place_order(customer, domain, name="mine.com")
    place_order(customer, hosting, period="month", name="pending.example")
    place_order(other_customer, domain, name="theirs.com")
    invoice_mark_paid(invoice=invoice, staff_user=staff)
    page = customer_client.get("/billing/services/").content.decode()
    assert "mine.com" in page and "Active" in page
    assert "pending.example" in page and "Awaiting payment" in page
    assert "theirs.com" not in page


def test_the_list_costs_a_fixed_number_of_queries(customer_client, customer, hosting,
                                                  django_assert_num_queries):
    for n in range(6):
        place_order(customer, hosting, name=f"site{n}.example")
    # session, user, services with products (no count: they fit on one page)
    with django_assert_num_queries(3):
        customer_client.get("/billing/services/")


def test_automatic_renewal_can_be_turned_off_and_on(customer_client, customer, hosting):
    _o, _i, service = place_order(customer, hosting)
    url = f"/billing/services/{service.pk}/auto-renew/"
    response = customer_client.post(url, {"auto_renew": "off"}, follow=True)
    assert "will not renew automatically" in response.content.decode()
    assert Service.objects.get(pk=service.pk).auto_renew is False
    customer_client.post(url, {"auto_renew": "on"})
    assert Service.objects.get(pk=service.pk).auto_renew is True


def test_another_customers_service_is_not_found(client, customer, other_customer, hosting):
    _o, _i, service = place_order(customer, hosting)
    client.force_login(other_customer)
    response = client.post(f"/billing/services/{service.pk}/auto-renew/", {"auto_renew": "off"})
    assert response.status_code == 404
    assert Service.objects.get(pk=service.pk).auto_renew is True


def test_switching_is_post_only(customer_client, customer, hosting):
    _o, _i, service = place_order(customer, hosting)
    assert customer_client.get(f"/billing/services/{service.pk}/auto-renew/").status_code == 405


def test_services_need_a_login(client):
    assert client.get("/billing/services/").status_code == 302
