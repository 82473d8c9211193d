import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User
from conftest import make_customer, signup_data
from notifications.models import OutboundEmail

pytestmark = pytest.mark.django_db


def post_signup(client, django_capture_on_commit_callbacks, **overrides):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("accounts:signup"), signup_data(**overrides))


def test_signup_page_shows_the_guide_advice(client):
    response = client.get("/signup/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "not tied to your own domain" in page
    for field in ("first_name", "last_name", "email", "spare_email", "password1", "password2",
                  "legal_form", "organisation", "address", "city", "zip", "country", "phone",
                  "language"):
        assert f'name="{field}"' in page


def test_signup_creates_the_account_logs_in_and_shows_the_nic_handle(
    client, django_capture_on_commit_callbacks
):
    response = post_signup(client, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert response["Location"] == "/signup/done/"
    user = User.objects.get()
    assert re.fullmatch(r"dm\d{6}-OVH", user.nic_handle)
    assert user.email == "daniel.martin@example.org"
    assert user.phone == "+34912345678"
    assert user.check_password("correct-horse-battery-42")
    assert user.email_confirmed_at is None

    page = client.get("/signup/done/").content.decode()
    assert (f"Your customer ID is {user.nic_handle} — keep it and your password in a safe "
            "place") in page


def test_signup_sends_the_confirmation_email_with_the_nic_handle(
    client, django_capture_on_commit_callbacks
):
    post_signup(client, django_capture_on_commit_callbacks)
    user = User.objects.get()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["daniel.martin@example.org"]
    assert user.nic_handle in message.subject
    assert user.nic_handle in message.body
    html = message.alternatives[0][0]
    assert user.nic_handle in html
    row = OutboundEmail.objects.get()
    assert row.user == user and row.kind == "account_created"
    assert row.status == OutboundEmail.Status.SENT


def test_the_outbox_row_is_written_with_the_account_and_sent_only_after_commit(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post("/signup/", signup_data())
    assert OutboundEmail.objects.get().status == OutboundEmail.Status.QUEUED
    assert mail.outbox == []
    assert len(callbacks) == 1


@pytest.mark.parametrize("address", ["daniel@example.org", "DANIEL@Example.ORG"])
def test_an_email_in_use_is_refused_whatever_its_case(
    client, customer, address, django_capture_on_commit_callbacks
):
    response = post_signup(client, django_capture_on_commit_callbacks, email=address)
    assert response.status_code == 200
    assert "already used by another account" in response.content.decode()
    assert User.objects.count() == 1


def test_the_spare_address_must_differ_from_the_main_one(
    client, django_capture_on_commit_callbacks
):
    response = post_signup(client, django_capture_on_commit_callbacks,
                           spare_email="Daniel.Martin@example.org")
    assert "The spare address must differ from the main address." in response.content.decode()
    assert not User.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"first_name": ""}, "This field is required."),
        ({"email": "not-an-address"}, "Enter a valid email address."),
        ({"password2": "something-else-42"}, "The two passwords do not match."),
        ({"password1": "short", "password2": "short"}, "This password is too short."),
        ({"password1": "password123", "password2": "password123"}, "too common"),
        ({"phone": "12"}, "international format"),
        ({"legal_form": "corporation", "organisation": ""}, "Enter the name of your organisation."),
        ({"legal_form": "kingdom"}, "Select a valid choice."),
        ({"country": "XX"}, "Select a valid choice."),
        ({"language": "de"}, "Select a valid choice."),
    ],
)
def test_each_invalid_field_gets_a_clear_message(
    client, overrides, message, django_capture_on_commit_callbacks
):
    response = post_signup(client, django_capture_on_commit_callbacks, **overrides)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not User.objects.exists()
    assert mail.outbox == []


def test_a_corporation_gives_its_organisation(client, django_capture_on_commit_callbacks):
    post_signup(client, django_capture_on_commit_callbacks, legal_form="corporation",
                organisation="Acme SL")
    user = User.objects.get()
    assert (user.legal_form, user.organisation) == ("corporation", "Acme SL")


def test_a_logged_in_customer_is_sent_to_the_dashboard(customer_client):
    response = customer_client.get("/signup/")
    assert response.status_code == 302 and response["Location"] == "/account/"


def test_the_nic_handle_page_needs_a_login(client):
    response = client.get("/signup/done/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_the_nic_handle_page_shows_only_ones_own_handle(client, customer, other_customer):
    client.force_login(other_customer)
    page = client.get("/signup/done/").content.decode()
    assert other_customer.nic_handle in page
    assert customer.nic_handle not in page


def test_signup_language_sets_the_email_language(client, django_capture_on_commit_callbacks):
    post_signup(client, django_capture_on_commit_callbacks, language="es")
    user = User.objects.get()
    assert user.language == "es"
    assert OutboundEmail.objects.get().language == "es"


def test_names_are_stored_as_typed(client, django_capture_on_commit_callbacks):
    post_signup(client, django_capture_on_commit_callbacks, first_name=" Ñúñez ",
                last_name="Øster")
    user = User.objects.get()
    assert user.first_name == "Ñúñez"
    assert user.nic_handle.startswith("no")


def test_the_account_stores_the_email_in_lower_case():
    make_customer("Mixed@Example.org")
    assert User.objects.get().email == "mixed@example.org"
