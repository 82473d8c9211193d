"""/account/emails/<id>/html/: the HTML part of an email, on its own URL so that the
history page keeps its strict policy while the email keeps its inline styles."""

import pytest
from django.test import Client

from notifications.tests.test_email_history import make_email

pytestmark = pytest.mark.django_db

STYLED = '<p style="color:#0d6efd">Hello</p><script>alert("x")</script>'


def directives(response):
    return dict((part.strip().split(" ", 1) + [""])[:2]
                for part in response["Content-Security-Policy"].split(";"))


def test_the_owner_gets_the_html_part_under_a_policy_of_its_own(customer_client, customer):
    email = make_email(customer, "Welcome", body_html=STYLED)
    response = customer_client.get(f"/account/emails/{email.pk}/html/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response.content.decode() == STYLED
    policy = directives(response)
    # Its inline styles apply; nothing else loads or runs, and only this site frames it.
    assert policy["default-src"] == "'none'"
    assert policy["style-src"] == "'unsafe-inline'"
    assert policy["img-src"] == "data:"
    assert policy["frame-ancestors"] == "'self'"
    assert "sandbox" in policy and "script-src" not in policy
    assert response["X-Frame-Options"] == "SAMEORIGIN"


def test_the_history_page_frames_it_in_a_sandbox(customer_client, customer):
    email = make_email(customer, "Welcome", body_html=STYLED)
    response = customer_client.get(f"/account/emails/{email.pk}/")
    page = response.content.decode()
    assert f'sandbox="" src="/account/emails/{email.pk}/html/"' in page
    assert "srcdoc" not in page and "alert" not in page
    assert response["X-Frame-Options"] == "DENY"
    assert directives(response)["frame-ancestors"] == "'none'"


def test_another_customers_email_is_404(customer_client, other_customer):
    email = make_email(other_customer, "Not yours")
    assert customer_client.get(f"/account/emails/{email.pk}/html/").status_code == 404


def test_an_email_of_no_customer_is_404(customer_client, customer):
    email = make_email(customer, "Staff notice", user=None)
    assert customer_client.get(f"/account/emails/{email.pk}/html/").status_code == 404


def test_an_email_without_html_is_404(customer_client, customer):
    email = make_email(customer, "Plain", body_html="")
    assert customer_client.get(f"/account/emails/{email.pk}/html/").status_code == 404


def test_a_visitor_is_sent_to_the_login_page(client, customer):
    email = make_email(customer, "Welcome")
    response = client.get(f"/account/emails/{email.pk}/html/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_staff_see_it_on_a_staff_only_url_framed_by_the_outbox_admin(agent_client, customer):
    email = make_email(customer, "Welcome", body_html=STYLED)
    url = f"/admin/notifications/outboundemail/{email.pk}/html/"
    page = agent_client.get(f"/admin/notifications/outboundemail/{email.pk}/change/").content.decode()
    assert f'sandbox="" src="{url}"' in page and "srcdoc" not in page
    response = agent_client.get(url)
    assert response.status_code == 200 and response.content.decode() == STYLED
    assert directives(response)["default-src"] == "'none'"
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    customer_browser = Client()
    customer_browser.force_login(customer)
    assert customer_browser.get(url).status_code == 302  # to the admin login
