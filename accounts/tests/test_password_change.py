import pytest
from django.test import Client
from django.utils import translation

from accounts.models import SecurityEvent
from conftest import PASSWORD
from notifications.models import OutboundEmail

pytestmark = pytest.mark.django_db
NEW = "another-long-passphrase-88"


def change(client, old=PASSWORD, new=NEW, again=None):
    return client.post("/account/security/", {"old_password": old, "new_password1": new,
                                              "new_password2": again or new}, follow=True)


def test_the_current_password_is_required(customer_client, customer):
    response = change(customer_client, old="wrong-one")
    assert "Your old password was entered incorrectly" in response.content.decode()
    customer.refresh_from_db()
    assert customer.check_password(PASSWORD)


def test_a_change_keeps_this_session_and_ends_the_others(
    customer_client, customer, django_capture_on_commit_callbacks
):
    other = Client()
    other.force_login(customer)
    with django_capture_on_commit_callbacks(execute=True):
        response = change(customer_client)
    assert "Your password has been changed" in response.content.decode()
    assert customer_client.get("/account/").status_code == 200
    assert other.get("/account/").status_code == 302
    customer.refresh_from_db()
    assert customer.check_password(NEW)
    assert OutboundEmail.objects.get(kind="password_changed").to_address == customer.email
    assert customer.security_events.filter(action=SecurityEvent.Action.PASSWORD_CHANGED).exists()


def test_the_new_password_must_pass_the_validators(customer_client):
    response = change(customer_client, new="password")
    assert "This password is too common." in response.content.decode()


def test_the_security_page_lists_only_my_own_events(client, customer, other_customer):
    SecurityEvent.objects.create(user=customer, action="login", ip_address="203.0.113.1")
    SecurityEvent.objects.create(user=other_customer, action="login", ip_address="198.51.100.2")
    client.force_login(customer)
    page = client.get("/account/security/").content.decode()
    assert "203.0.113.1" in page and "198.51.100.2" not in page


def test_the_security_page_needs_a_login(client):
    assert client.get("/account/security/")["Location"].startswith("/login/")


def test_the_security_log_pages_with_the_shared_links(customer_client, customer):
    from accounts.models import SecurityEvent

    SecurityEvent.objects.bulk_create(
        SecurityEvent(user=customer, action=SecurityEvent.Action.LOGIN) for _ in range(25))
    first = customer_client.get("/account/security/").content.decode()
    assert 'href="?page=2"' in first and "Page 1 of 2" in first
    second = customer_client.get("/account/security/?page=2").content.decode()
    assert "Page 2 of 2" in second and 'href="?page=1"' in second


def test_the_security_log_names_each_event_in_the_customers_language(customer_client, customer):
    customer.language = "fr"
    customer.save()
    SecurityEvent.objects.create(user=customer, action=SecurityEvent.Action.PASSWORD_CHANGED)
    page = customer_client.get("/account/security/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    with translation.override("fr"):
        label = str(SecurityEvent.Action.PASSWORD_CHANGED.label)
    assert label != "Password changed" and label in page
