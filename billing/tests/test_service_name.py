"""A service name is shown to the customer, to staff and on invoices: it cannot hide
characters that break the line or reverse how it reads (after U+202E, "gnp.exe" shows
as "exe.png")."""

import pytest
from django.core.exceptions import ValidationError

from billing.forms import OrderForm
from billing.models import Order, Service
from conftest import staff_log_in

from .conftest import place_order

pytestmark = pytest.mark.django_db

MESSAGE = "This field cannot contain control or text-direction characters."
DANGEROUS = {
    "right-to-left override": "\u202e", "left-to-right override": "\u202d",
    "right-to-left embedding": "\u202b", "first strong isolate": "\u2068",
    "right-to-left mark": "\u200f", "arabic letter mark": "\u061c", "tab": "\t",
    "newline": "\n", "escape": "\x1b", "line separator": "\u2028",
}


def choose(product, name, period="year"):
    return {"product": product.pk, "period": period, "service_name": name}


def test_a_service_name_with_a_right_to_left_override_is_refused(customer_client, hosting):
    response = customer_client.post("/billing/orders/new/", choose(hosting, "\u202egnp.exe"))
    assert response.status_code == 200
    assert MESSAGE in response.content.decode()
    assert not Order.objects.exists()


@pytest.mark.parametrize("char", DANGEROUS.values(), ids=DANGEROUS.keys())
@pytest.mark.parametrize("product", ["hosting", "domain"])
def test_the_order_form_refuses_a_control_or_direction_character_in_the_name(
    request, product, char
):
    product = request.getfixturevalue(product)
    form = OrderForm(choose(product, f"exam{char}ple.com"))
    assert not form.is_valid()
    assert MESSAGE in form.errors["service_name"]


@pytest.mark.parametrize("name", ["Boutique Ñandú", "\u05d7\u05e0\u05d5\u05ea",
                                  "\u0645\u062a\u062c\u0631 \u0627\u0644\u0643\u062a\u0628",
                                  "shop\u200dname"])
def test_a_service_name_in_any_script_is_kept_as_typed(hosting, name):
    form = OrderForm(choose(hosting, name))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["service_name"] == name


def test_a_service_renamed_elsewhere_is_checked_too(customer, hosting):
    _order, _invoice, service = place_order(customer, hosting, name="example.com")
    service.name = "\u202egnp.exe"
    with pytest.raises(ValidationError) as error:
        service.full_clean()
    assert error.value.message_dict["name"] == [MESSAGE]


def test_staff_cannot_rename_a_service_with_a_right_to_left_override_in_admin(
    client, staff, customer, hosting
):
    _order, _invoice, service = place_order(customer, hosting, name="example.com")
    staff_log_in(client, staff)
    response = client.post(f"/admin/billing/service/{service.pk}/change/", {
        "name": "\u202egnp.exe", "period": service.period, "status": service.status,
        "auto_renew": "on", "expires_at_0": "", "expires_at_1": "",
    })
    assert response.status_code == 200
    assert MESSAGE in response.content.decode()
    assert Service.objects.get(pk=service.pk).name == "example.com"
