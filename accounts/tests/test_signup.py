import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.urls import reverse

from accounts.models import IssuedNicHandle, SecurityEvent, User
from conftest import PASSWORD, make_customer, signup_data
from notifications.models import OutboundEmail

pytestmark = pytest.mark.django_db


def post_signup(client, django_capture_on_commit_callbacks, REMOTE_ADDR="127.0.0.1", **overrides):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("accounts:signup"), signup_data(**overrides),
                           REMOTE_ADDR=REMOTE_ADDR)


def test_signup_page_shows_the_guide_advice(client):
    response = client.get("/signup/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "not tied to your own domain" in page
    for field in ("first_name", "last_name", "email", "spare_email", "password1", "password2",
                  "legal_form", "organisation", "address", "city", "zip", "country", "phone",
                  "language"):
        assert f'name="{field}"' in page


def test_signup_creates_the_account_and_asks_to_check_the_inbox_without_logging_in(
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
    assert SESSION_KEY not in client.session

    page = client.get("/signup/done/").content.decode()
    assert "Check your inbox" in page
    assert user.nic_handle not in page


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


def without_csrf_tokens(page):
    return re.sub(r'(csrfmiddlewaretoken" value=|csrf-token" content=)"[^"]*"', r"\1", page)


@pytest.mark.parametrize("address", ["daniel@example.org", "DANIEL@Example.ORG"])
def test_signup_with_a_taken_address_shows_the_same_page_and_emails_the_owner(
    client, customer, address, django_capture_on_commit_callbacks
):
    response = post_signup(client, django_capture_on_commit_callbacks, email=address)
    assert response.status_code == 302
    assert response["Location"] == "/signup/done/"
    assert User.objects.count() == 1
    assert IssuedNicHandle.objects.count() == 1, "the handle drawn for the refused signup is released"
    assert SESSION_KEY not in client.session
    assert [m.to for m in mail.outbox] == [["daniel@example.org"]]
    message = mail.outbox[0]
    assert "Someone tried to create an account with your address" in message.body
    assert "http://127.0.0.1:8000/login/" in message.body
    assert "Forgotten password?" in message.body
    assert "/signup/confirm/" not in message.body and "/reset/" not in message.body
    row = OutboundEmail.objects.get()
    assert (row.kind, row.user) == ("signup_address_taken", customer)
    assert list(SecurityEvent.objects.values_list("user", "action")) == [(customer.pk, "signup")]


def test_the_answer_is_the_same_page_for_a_taken_and_a_free_address(
    client, customer, django_capture_on_commit_callbacks
):
    taken = post_signup(client, django_capture_on_commit_callbacks, email=customer.email)
    free = post_signup(client, django_capture_on_commit_callbacks, email="free@example.org")
    assert (taken.status_code, taken["Location"]) == (free.status_code, free["Location"])
    pages = [without_csrf_tokens(client.get(r["Location"]).content.decode()) for r in (taken, free)]
    assert pages[0] == pages[1]


def test_signup_hashes_the_password_whether_or_not_the_address_is_taken(
    client, customer, django_capture_on_commit_callbacks, monkeypatch
):
    hashed = []
    original = User.set_password
    monkeypatch.setattr(User, "set_password",
                        lambda user, raw: hashed.append(raw) or original(user, raw))
    post_signup(client, django_capture_on_commit_callbacks, email=customer.email)
    post_signup(client, django_capture_on_commit_callbacks, email="free@example.org")
    assert hashed == ["correct-horse-battery-42"] * 2


def test_signups_are_limited_per_ip_even_when_the_form_is_invalid(
    client, customer, django_capture_on_commit_callbacks
):
    for _ in range(10):
        post_signup(client, django_capture_on_commit_callbacks, first_name="",
                    REMOTE_ADDR="192.0.2.80")
    answers = [post_signup(client, django_capture_on_commit_callbacks, email=address,
                           REMOTE_ADDR="192.0.2.80")
               for address in ("free@example.org", customer.email)]
    for response in answers:
        assert response.status_code == 200
        assert "Too many requests. Please try again in" in response.content.decode()
    assert User.objects.count() == 1
    assert mail.outbox == []
    other_ip = post_signup(client, django_capture_on_commit_callbacks, REMOTE_ADDR="192.0.2.81")
    assert other_ip.status_code == 302


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
        ({"phone": "12"}, "not valid in international format"),
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


def test_the_check_your_inbox_page_is_public_and_shows_no_customer_id(client, customer):
    response = client.get("/signup/done/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Check your inbox" in page
    assert customer.nic_handle not in page and customer.email not in page


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


def test_a_signup_that_loses_the_race_for_its_address_emails_the_winner(
    monkeypatch, django_capture_on_commit_callbacks
):
    from accounts import services

    winner = {}
    create = services.account_create

    def racing_create(**kwargs):
        winner["user"] = make_customer(kwargs["email"], first_name="Rita", last_name="Racer")
        return create(**kwargs)

    monkeypatch.setattr("accounts.services.signup.account_create", racing_create)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.account_signup(email="Race@example.org", password=PASSWORD,
                                       first_name="Daniel", last_name="Martín") is None
    assert list(User.objects.all()) == [winner["user"]]
    row = OutboundEmail.objects.get()
    assert (row.kind, row.user, row.to_address) == ("signup_address_taken", winner["user"],
                                                    "race@example.org")


def test_an_address_refused_by_the_database_raises_email_in_use(customer):
    from accounts.services import EmailInUse

    with pytest.raises(EmailInUse):
        make_customer("Daniel@Example.org")
