"""The VAT number of a business, on the signup and profile forms: optional, checked with
python-stdnum against the country chosen, stored in its compact form."""

import pytest
from django.urls import reverse

from accounts.models import User
from conftest import signup_data

from .test_profile import profile_data

pytestmark = pytest.mark.django_db

COMPANY = {"legal_form": "corporation", "organisation": "Acme SL", "country": "ES"}


def post_signup(client, django_capture_on_commit_callbacks, **overrides):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("accounts:signup"), signup_data(**overrides))


def test_the_signup_form_takes_a_vat_number(client):
    assert 'name="vat_number"' in client.get("/signup/").content.decode()


def test_a_business_signs_up_with_its_vat_number(client, django_capture_on_commit_callbacks):
    post_signup(client, django_capture_on_commit_callbacks, vat_number="es b1234567-4", **COMPANY)
    assert User.objects.get().vat_number == "ESB12345674"


@pytest.mark.parametrize(("overrides", "message"), [
    ({**COMPANY, "vat_number": "ESB12345675"}, "This is not a valid VAT number"),
    ({**COMPANY, "vat_number": "DE136695976"}, "should start with ES"),
    ({**COMPANY, "country": "US", "vat_number": "DE136695976"},
     "only taken for a country of the European Union"),
    ({"vat_number": "ESB12345674"}, "A VAT number is for businesses"),
])
def test_a_wrong_vat_number_gets_a_clear_message(client, django_capture_on_commit_callbacks,
                                                 overrides, message):
    response = post_signup(client, django_capture_on_commit_callbacks, **overrides)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not User.objects.exists()


def test_a_signup_without_a_vat_number_still_works(client, django_capture_on_commit_callbacks):
    post_signup(client, django_capture_on_commit_callbacks, **COMPANY)
    assert User.objects.get().vat_number == ""


def test_the_profile_takes_and_shows_the_vat_number(customer_client, customer):
    response = customer_client.post("/account/profile/edit/", profile_data(
        customer, legal_form="corporation", organisation="Acme SL", vat_number="B12345674"),
        follow=True)
    customer.refresh_from_db()
    assert customer.vat_number == "ESB12345674"
    assert 'id="profile-vat-number">ESB12345674' in response.content.decode()


def test_the_profile_refuses_an_invalid_vat_number_and_keeps_the_saved_one(customer_client,
                                                                          customer):
    User.objects.filter(pk=customer.pk).update(legal_form="corporation", organisation="Acme SL",
                                               vat_number="ESB12345674")
    customer.refresh_from_db()
    response = customer_client.post("/account/profile/edit/",
                                    profile_data(customer, vat_number="ESB12345675"))
    assert "This is not a valid VAT number" in response.content.decode()
    customer.refresh_from_db()
    assert customer.vat_number == "ESB12345674"
