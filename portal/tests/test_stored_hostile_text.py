"""Text a customer typed, once stored, shows on every page, email and invoice as typed:
markup in a name, a service name, a support request, a contact change or a message to
support is escaped in HTML (pages, the admin, the email's HTML part), never run, and kept
as typed in the text part; the invoice PDF renders."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from hypothesis import Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.models import User
from billing.models import ContactChangeRequest, Invoice, Order, Service
from billing.tests.conftest import catalogue_product, place_order
from conftest import prove_password, signup_data, staff_log_in
from notifications.models import OutboundEmail
from portal.tests.hostile import NASTY, assert_no_server_error, browser, example
from support.models import ContactMessage, SupportRequest

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


def assert_emails_escaped(messages):
    """Markup typed by a customer is escaped in each email's HTML part, and as typed in
    its text part."""
    assert messages
    for message in messages:
        (html, _type), = message.alternatives
        assert MARKUP not in html, f"{message.subject}: markup unescaped in the HTML part"
        if MARKUP in message.body:
            assert ESCAPED in html, f"{message.subject}: the text part shows what HTML hides"


# A NIC handle as typed in the contacts form: at most 32 characters.
typed_handle = st.sampled_from(["", "ab", "Ñ", "😀", "דנ", "x" * 7]).map(lambda text: text + MARKUP)


@hypothesis_settings(max_examples=max(3, hypothesis_settings.default.max_examples // 10),
                     phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(subject=accepted, body=accepted, reply=accepted, handle=typed_handle)
def test_support_and_contacts_text_shows_escaped_on_every_page_and_email(
    customer, support_agent, settings, tmp_path, django_capture_on_commit_callbacks, subject,
    body, reply, handle,
):
    settings.MEDIA_ROOT = tmp_path / "media"
    on_commit = django_capture_on_commit_callbacks
    with example():
        mail.outbox = []
        client = browser()
        client.force_login(customer)
        agent = Client(raise_request_exception=False)
        staff_log_in(agent, support_agent)

        # A support request and the agent's reply (which emails the customer).
        response = client.post("/account/support/new/", {
            "category": "technical", "subject": subject, "body": body})
        assert response.status_code == 302, response.content[:3000]
        support_request = SupportRequest.objects.get(customer=customer)
        admin_url = f"/admin/support/supportrequest/{support_request.pk}/change/"
        with on_commit(execute=True):
            response = agent.post(admin_url, {"assignee": "", "canned_answer": "",
                                              "body_kind": "reply", "body": reply,
                                              "new_status": "", "_save": "Save"})
        assert response.status_code == 302
        for url in ("/account/support/", f"/account/support/{support_request.number}/"):
            assert_shown_escaped(client, url)
        for url in ("/admin/support/supportrequest/",
                    f"/admin/support/supportrequest/?q={support_request.number}", admin_url):
            assert_shown_escaped(agent, url)

        # A contact change to the NIC handle typed (none has it: no account is told).
        service = place_order(customer, catalogue_product("web-hosting"),
                              now=timezone.now() - timedelta(days=1))[2]
        with on_commit(execute=True):
            response = client.post(f"/account/contacts/services/{service.pk}/change/",
                                   {"roles": ["tech"], "nic_handle": handle})
        assert response.status_code == 302, response.content[:3000]
        change = ContactChangeRequest.objects.get(service=service)
        assert change.target_nic_handle == handle.strip()
        assert_shown_escaped(client, "/account/contacts/")
        for url in ("/admin/billing/contactchangerequest/",
                    f"/admin/billing/contactchangerequest/{change.pk}/change/"):
            assert_shown_escaped(agent, url)

        # The customer's copies of the emails these sent.
        emails = list(OutboundEmail.objects.filter(user=customer))
        assert {email.kind for email in emails} >= {"support_reply",
                                                     "contact_change_request"}
        for email in emails:
            assert_shown_escaped(client, f"/account/emails/{email.pk}/", shows_markup=False)
            assert_shown_escaped(client, f"/account/emails/{email.pk}/html/", shows_markup=False)
            assert_shown_escaped(agent, f"/admin/notifications/outboundemail/{email.pk}/change/",
                                 shows_markup=False)
        assert_emails_escaped(mail.outbox)


@hypothesis_settings(max_examples=max(3, hypothesis_settings.default.max_examples // 10),
                     phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(message=accepted, handle=typed_handle, answer=accepted)
def test_the_contact_form_text_shows_escaped_to_the_agent_and_in_the_answer(
    support_agent, django_capture_on_commit_callbacks, message, handle, answer,
):
    with example():
        mail.outbox = []
        response = browser().post("/contact/", {"topic": "billing", "nic_handle": handle,
                                                "email": "me@example.org", "message": message})
        assert response.status_code == 302, response.content[:3000]
        contact = ContactMessage.objects.get()
        agent = Client(raise_request_exception=False)
        staff_log_in(agent, support_agent)
        url = f"/admin/support/contactmessage/{contact.pk}/change/"
        for page in ("/admin/support/contactmessage/", url):
            assert_shown_escaped(agent, page)
        with django_capture_on_commit_callbacks(execute=True):
            response = agent.post(url, {"answer": answer, "_save": "Save"})
        assert response.status_code == 302
        assert_shown_escaped(agent, url)
        assert [message.to for message in mail.outbox] == [["me@example.org"]]
        assert_emails_escaped(mail.outbox)
