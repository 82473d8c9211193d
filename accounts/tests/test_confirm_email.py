import re

import pytest
from django.core import mail

from accounts.services import email_confirmation_token
from conftest import signup_data

pytestmark = pytest.mark.django_db


def test_the_link_in_the_email_confirms_the_address(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/signup/", signup_data())
    link = re.search(r"http://127\.0\.0\.1:8000(/signup/confirm/\S+/)", mail.outbox[0].body)
    response = client.get(link.group(1))
    assert response.status_code == 200
    assert "is confirmed" in response.content.decode()
    page = client.get("/account/").content.decode()
    assert "address not confirmed" not in page


def test_the_confirmation_page_shows_the_customer_id_and_a_log_in_button(client, customer):
    response = client.get(f"/signup/confirm/{email_confirmation_token(customer)}/")
    page = response.content.decode()
    assert f'id="new-nic-handle">{customer.nic_handle}<' in page
    page = re.sub(r"<span class=\"nic\">([^<]*)</span>", r"\1", page)  # kept on one line
    assert (f"Your customer ID is {customer.nic_handle} — keep it and your password in a safe "
            "place.") in page
    assert re.search(r'<a class="btn btn-primary[^"]*" href="/login/"[^>]*>\s*Log in\s*</a>', page)


def test_the_link_works_without_being_logged_in(client, customer):
    response = client.get(f"/signup/confirm/{email_confirmation_token(customer)}/")
    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.email_confirmed_at is not None


def test_a_tampered_link_is_refused(client, customer):
    token = email_confirmation_token(customer)
    response = client.get(f"/signup/confirm/{token[:-2]}xx/")
    assert response.status_code == 400
    assert "not valid" in response.content.decode()
    customer.refresh_from_db()
    assert customer.email_confirmed_at is None


def test_a_link_for_a_previous_address_does_not_confirm_the_new_one(client, customer):
    token = email_confirmation_token(customer)
    customer.email = "new@example.org"
    customer.save()
    assert client.get(f"/signup/confirm/{token}/").status_code == 400
    customer.refresh_from_db()
    assert customer.email_confirmed_at is None


def test_an_expired_link_is_refused(client, customer):
    import time_machine

    with time_machine.travel("2026-01-01 10:00:00Z"):
        token = email_confirmation_token(customer)
    with time_machine.travel("2026-01-08 10:00:01Z"):
        assert client.get(f"/signup/confirm/{token}/").status_code == 400


def test_signup_and_confirmation_land_in_the_security_log(client, django_capture_on_commit_callbacks):
    from accounts.models import SecurityEvent, User

    with django_capture_on_commit_callbacks(execute=True):
        client.post("/signup/", signup_data(), REMOTE_ADDR="203.0.113.9")
    user = User.objects.get()
    client.get(f"/signup/confirm/{email_confirmation_token(user)}/", REMOTE_ADDR="203.0.113.9")
    client.get(f"/signup/confirm/{email_confirmation_token(user)}/")
    actions = list(user.security_events.order_by("pk").values_list("action", "ip_address"))
    assert actions == [(SecurityEvent.Action.SIGNUP, "203.0.113.9"),
                       (SecurityEvent.Action.EMAIL_CONFIRMED, "203.0.113.9")]
