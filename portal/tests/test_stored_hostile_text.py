"""Text a customer typed, once stored, shows on every page, email and invoice as typed:
markup in a name or a service name is escaped in HTML (pages, the admin, the email's
HTML part), never run, and kept as typed in the text part; the invoice PDF renders."""

import pytest
from django.core import mail
from django.test import Client
from hypothesis import Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.models import User
from billing.models import Invoice, Order, Service
from billing.tests.conftest import catalogue_product
from conftest import prove_password, signup_data, staff_log_in
from notifications.models import OutboundEmail
from portal.tests.hostile import NASTY, assert_no_server_error, browser, example

pytestmark = pytest.mark.django_db

MARKUP = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"

# What the forms take in a name: no control, format (direction marks), private-use or
# unassigned character (portal.text.no_control_characters).
accepted = st.one_of(
    st.text(st.characters(exclude_categories=["Cc", "Cf", "Cs", "Co", "Cn"]), max_size=30),
    st.sampled_from([text for text in NASTY if text.isprintable() and len(text) < 40]),
).map(lambda text: (text.strip() or "x") + MARKUP)


def place_hosting_order(client, name):
    hosting = catalogue_product("web-hosting")
    choice = {"product": hosting.pk, "period": "year", "service_name": name}
    review = client.post("/billing/orders/new/", choice)
    assert review.status_code == 200 and "token" in review.context, "the review page"
    return client.post("/billing/orders/new/", {
        **choice, "token": review.context["token"], "confirm": "1",
        "quoted_total": str(review.context["quote"].total_amount)})


def assert_shown_escaped(client, url, *, shows_markup=True):
    response = assert_no_server_error(client.get(url), url)
    assert response.status_code == 200, url
    page = response.content.decode()
    assert MARKUP not in page, f"{url} shows the markup unescaped"
    if shows_markup:
        assert ESCAPED in page, f"{url} does not show the text"
    return page


# Each example signs up, orders, renders a PDF and some thirty pages: few examples, and
# no shrinking (the failing example is printed as found).
@hypothesis_settings(max_examples=max(3, hypothesis_settings.default.max_examples // 10),
                     phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(first_name=accepted, last_name=accepted, service_name=accepted)
def test_typed_text_shows_escaped_on_every_page_email_and_invoice(
    support_agent, settings, tmp_path, django_capture_on_commit_callbacks, first_name, last_name,
    service_name,
):
    settings.MEDIA_ROOT = tmp_path / "media"
    with example():
        mail.outbox = []
        client = browser()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/signup/", signup_data(
                first_name=first_name, last_name=last_name, organisation=MARKUP,
                address="1 " + MARKUP, city=MARKUP))
        assert response.status_code == 302, response.content[:3000]
        customer = User.objects.get(email="daniel.martin@example.org")
        client.force_login(customer)
        prove_password(client)
        with django_capture_on_commit_callbacks(execute=True):
            response = place_hosting_order(client, service_name)
        assert response.status_code == 302
        order = Order.objects.get(customer=customer)
        invoice = Invoice.objects.get(order=order)
        service = Service.objects.get(customer=customer)
        emails = list(OutboundEmail.objects.filter(user=customer))
        assert emails

        for url in ("/account/", "/account/profile/", "/account/profile/edit/",
                    "/billing/services/", "/billing/orders/", f"/billing/orders/{order.pk}/",
                    "/billing/invoices/", f"/billing/invoices/{invoice.number}/",
                    "/account/emails/", "/account/security/"):
            assert_shown_escaped(client, url)
        for email in emails:
            assert_shown_escaped(client, f"/account/emails/{email.pk}/")
            assert_shown_escaped(client, f"/account/emails/{email.pk}/html/")
        pdf = client.get(f"/billing/invoices/{invoice.number}/pdf/")
        assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF")

        agent = Client(raise_request_exception=False)
        staff_log_in(agent, support_agent)
        for url in (f"/admin/accounts/user/?q={customer.nic_handle}",
                    f"/admin/accounts/user/{customer.pk}/change/",
                    f"/admin/billing/invoice/{invoice.pk}/change/", "/admin/billing/service/",
                    f"/admin/billing/service/{service.pk}/change/"):
            assert_shown_escaped(agent, url)
        assert_shown_escaped(agent, "/admin/notifications/outboundemail/", shows_markup=False)
        assert_shown_escaped(agent, f"/admin/billing/order/{order.pk}/change/", shows_markup=False)
        for email in emails:
            assert_shown_escaped(agent, f"/admin/notifications/outboundemail/{email.pk}/change/")

        # The emails as sent: markup escaped in the HTML part, as typed in the text part.
        assert mail.outbox
        for message in mail.outbox:
            (html, _type), = message.alternatives
            assert MARKUP not in html and MARKUP not in message.subject
            assert ESCAPED in html or first_name not in message.body
