from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notifications.models import OutboundEmail

pytestmark = pytest.mark.django_db


def make_email(customer, subject="Your invoice", *, minutes_ago=0, **extra):
    fields = {
        "user": customer, "kind": "account_created", "to_address": customer.email, "language": "en",
        "subject": subject, "body_text": f"Text of {subject}", "body_html": f"<p>{subject}</p>",
        "created_at": timezone.now() - timedelta(minutes=minutes_ago),
        **extra,
    }
    return OutboundEmail.objects.create(**fields)


def test_it_lists_the_customers_emails_newest_first_with_date_and_status(customer_client, customer):
    make_email(customer, "Older one", minutes_ago=60, status=OutboundEmail.Status.SENT)
    make_email(customer, "Newer one", minutes_ago=5, status=OutboundEmail.Status.FAILED)
    page = customer_client.get("/account/emails/").content.decode()
    assert page.index("Newer one") < page.index("Older one")
    assert "Sent" in page and "Failed" in page
    assert timezone.now().strftime("%Y") in page


def test_it_shows_25_emails_per_page(customer_client, customer):
    for number in range(30):
        make_email(customer, f"Email number {number:02d}", minutes_ago=number)
    first = customer_client.get("/account/emails/").content.decode()
    second = customer_client.get("/account/emails/?page=2").content.decode()
    assert first.count("Email number") == 25 and "Email number 00" in first
    assert second.count("Email number") == 5 and "Email number 29" in second
    assert "Page 2 of 2" in second


def test_a_page_number_out_of_range_shows_the_last_page(customer_client, customer):
    make_email(customer, "Only one")
    assert "Only one" in customer_client.get("/account/emails/?page=99").content.decode()


def test_another_customers_emails_are_not_listed(customer_client, other_customer):
    make_email(other_customer, "Not yours")
    page = customer_client.get("/account/emails/").content.decode()
    assert "Not yours" not in page
    assert 'id="no-email"' in page


def test_the_list_costs_the_same_few_queries_however_many_emails(
    customer_client, customer, django_assert_max_num_queries
):
    make_email(customer, "First")
    with CaptureQueriesContext(connection) as one_email:
        customer_client.get("/account/emails/")
    for number in range(30):
        make_email(customer, f"Email {number}")
    # session, customer, one page of rows, and the count once there is more than a page
    assert len(one_email) == 3
    with django_assert_max_num_queries(4):
        response = customer_client.get("/account/emails/")
    assert response.status_code == 200
    with CaptureQueriesContext(connection) as many_emails:
        customer_client.get("/account/emails/?page=2")
    assert len(many_emails) == 4


def test_the_detail_shows_the_text_body_and_the_html_body_in_a_sandbox(customer_client, customer):
    email = make_email(customer, "Welcome", body_text="Hello & welcome",
                       body_html='<p onclick="x()">Hi</p><script>alert("x")</script>')
    page = customer_client.get(f"/account/emails/{email.pk}/").content.decode()
    assert "<pre" in page and "Hello &amp; welcome" in page
    assert 'sandbox=""' in page
    assert f'src="/account/emails/{email.pk}/html/"' in page  # see test_email_html_body.py
    assert "<script>alert" not in page


def test_an_email_without_html_shows_only_the_text(customer_client, customer):
    email = make_email(customer, "Plain", body_html="")
    page = customer_client.get(f"/account/emails/{email.pk}/").content.decode()
    assert "Text of Plain" in page and "<iframe" not in page


def test_another_customers_email_is_404(customer_client, other_customer):
    email = make_email(other_customer, "Not yours")
    assert customer_client.get(f"/account/emails/{email.pk}/").status_code == 404


def test_an_email_of_no_customer_is_404(customer_client, customer):
    email = make_email(customer, "Staff notice", user=None)
    assert customer_client.get(f"/account/emails/{email.pk}/").status_code == 404


@pytest.mark.parametrize("path", ["/account/emails/", "/account/emails/1/"])
def test_a_visitor_is_sent_to_the_login_page(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_the_menu_links_to_the_email_history(customer_client):
    page = customer_client.get("/account/").content.decode()
    assert 'href="/account/emails/"' in page
