"""Catalogue names in the customer's language, without a code change."""

import pytest
from django.utils import translation

from billing.tests.conftest import place_order

pytestmark = pytest.mark.django_db


def test_a_product_has_a_name_per_language_with_the_default_as_fallback(hosting):
    hosting.name_es, hosting.name_fr = "Alojamiento web", ""
    hosting.save()
    with translation.override("es"):
        assert str(hosting) == "Alojamiento web"
    with translation.override("fr"):
        assert hosting.localised_name == "Web hosting"


def test_the_order_form_and_services_show_the_spanish_name(customer_client, customer, hosting):
    hosting.name_es = "Alojamiento web"
    hosting.save()
    customer.language = "es"
    customer.save()
    place_order(customer, hosting, name="mine.example")
    order_form = customer_client.get("/billing/orders/new/").content.decode()
    services = customer_client.get("/billing/services/").content.decode()
    assert "Alojamiento web" in order_form and "Alojamiento web" in services
    assert "Web hosting" not in services


def test_the_invoice_line_is_frozen_in_the_customers_language(customer, hosting, mailoutbox):
    hosting.name_es = "Alojamiento web"
    hosting.save()
    customer.language = "es"
    customer.save()
    _order, invoice, _service = place_order(customer, hosting, name="mine.example")
    hosting.name_es = "Hosting renombrado"
    hosting.save()
    assert invoice.lines.get().description.startswith("Alojamiento web – mine.example")


def test_the_order_email_names_the_product_in_the_customers_language(customer, hosting):
    from notifications.models import OutboundEmail
    hosting.name_fr = "Hébergement web"
    hosting.save()
    customer.language = "fr"
    customer.save()
    place_order(customer, hosting, name="mine.example")
    email = OutboundEmail.objects.get(user=customer, kind="order_confirmed")
    assert "Hébergement web – mine.example" in email.body_text
    assert "Hébergement web" in email.body_html and "Web hosting" not in email.body_html


def test_staff_edit_the_names_in_admin(superuser_client, hosting):
    page = superuser_client.get(f"/admin/billing/product/{hosting.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="name_es"' in html and 'name="name_fr"' in html
