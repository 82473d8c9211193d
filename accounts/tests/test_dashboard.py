import pytest
from django.core import mail
from django.utils import timezone

from notifications.models import OutboundEmail

pytestmark = pytest.mark.django_db


def test_the_dashboard_needs_a_login(client):
    response = client.get("/account/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/account/"


def test_name_and_nic_handle_are_shown_top_right(customer_client, customer):
    page = customer_client.get("/account/").content.decode()
    menu = page[page.index('id="account-menu"'):page.index('aria-labelledby="account-menu"')]
    assert "Daniel Martín" in menu
    assert customer.nic_handle in menu
    assert "My account" in page and "Log out" in page


def test_the_dashboard_shows_only_the_logged_in_customer(client, customer, other_customer):
    client.force_login(other_customer)
    page = client.get("/account/").content.decode()
    assert other_customer.nic_handle in page
    assert customer.nic_handle not in page
    assert customer.email not in page


def test_an_unconfirmed_address_is_flagged(customer_client):
    page = customer_client.get("/account/").content.decode()
    assert "address not confirmed" in page


def test_a_confirmed_address_is_not_flagged(customer_client, customer):
    customer.email_confirmed_at = timezone.now()
    customer.save()
    page = customer_client.get("/account/").content.decode()
    assert "address not confirmed" not in page


def test_the_confirmation_link_can_be_sent_again_once_a_minute(
    customer_client, customer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = customer_client.post("/account/confirmation/resend/", follow=True)
        second = customer_client.post("/account/confirmation/resend/", follow=True)
    assert "We sent a new confirmation email" in first.content.decode()
    assert "less than a minute ago" in second.content.decode()
    assert len(mail.outbox) == 1
    assert OutboundEmail.objects.filter(user=customer, kind="account_created").count() == 1


def test_resending_is_post_only(customer_client):
    assert customer_client.get("/account/confirmation/resend/").status_code == 405


def test_the_page_is_in_the_customers_language(customer_client, customer):
    customer.language = "es"
    customer.save()
    response = customer_client.get("/account/")
    assert response["Content-Language"] == "es"
    assert "Mi cuenta" in response.content.decode()
