"""Every page sends a Content-Security-Policy that lets it load only this site's own
files: no inline script or style, no plugin, never framed (django-csp, settings)."""

import re

import pytest

from billing.tests.conftest import catalogue_product, place_order
from notifications.models import OutboundEmail

pytestmark = pytest.mark.django_db

POLICY = {
    "default-src": "'self'",
    "object-src": "'none'",
    "frame-ancestors": "'none'",
    "img-src": "'self' data:",
    "form-action": "'self'",
    "base-uri": "'none'",
}
INLINE = [
    re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.I),  # a script without src
    re.compile(r"<style[\s>]", re.I),
    re.compile(r"\sstyle\s*=", re.I),
    re.compile(r"\son[a-z]+\s*=", re.I),  # onclick=, onload=...
    re.compile(r"javascript:", re.I),
]


def directives(response):
    header = response["Content-Security-Policy"]
    return dict((part.strip().split(" ", 1) + [""])[:2] for part in header.split(";"))


def assert_protected(response):
    assert response.status_code == 200
    assert directives(response) == POLICY
    page = response.content.decode()
    for pattern in INLINE:
        assert not pattern.search(page), pattern.search(page)


@pytest.mark.parametrize("path", ["/login/", "/signup/", "/password-reset/",
                                  "/account-recovery/", "/admin/login/"])
def test_public_pages(client, path):
    assert_protected(client.get(path))


@pytest.mark.parametrize("path", [
    "/account/", "/account/profile/", "/account/profile/edit/", "/account/email/",
    "/account/security/", "/account/emails/", "/billing/services/", "/billing/orders/",
    "/billing/orders/new/", "/billing/invoices/",
])
def test_customer_pages(customer_client, path):
    assert_protected(customer_client.get(path))


def test_an_order_and_its_invoice(customer_client, customer):
    order, invoice, _service = place_order(customer, catalogue_product("web-hosting"))
    assert_protected(customer_client.get(f"/billing/orders/{order.pk}/"))
    assert_protected(customer_client.get(f"/billing/invoices/{invoice.number}/"))


def test_an_email_of_the_history(customer_client, customer):
    email = OutboundEmail.objects.create(
        user=customer, kind="account_created", to_address=customer.email, language="en",
        subject="Welcome", body_text="Hello", body_html='<p style="color:red">Hello</p>')
    assert_protected(customer_client.get(f"/account/emails/{email.pk}/"))


def test_a_form_with_errors(customer_client):
    assert_protected(customer_client.post("/account/email/", {"new_email": "x"}))


@pytest.mark.parametrize("path", ["/admin/", "/admin/accounts/user/",
                                  "/admin/notifications/outboundemail/"])
def test_admin_pages(agent_client, path):
    assert_protected(agent_client.get(path))


def test_the_admin_change_form_of_a_customer(agent_client, customer):
    assert_protected(agent_client.get(f"/admin/accounts/user/{customer.pk}/change/"))


def test_pages_still_refuse_to_be_framed(customer_client):
    assert customer_client.get("/account/")["X-Frame-Options"] == "DENY"
