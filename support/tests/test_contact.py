"""The public contact form: access problems go to the flows that solve them; anything
else is a message for staff, the same answer whatever NIC handle was typed."""

import pytest

from support.models import ContactMessage
from support.services import CONTACT_LIMIT_PER_IP

pytestmark = pytest.mark.django_db


def form(**overrides):
    data = {"topic": "billing", "nic_handle": "dm429850-OVH", "email": "Me@Example.ORG",
            "message": "I was charged twice."}
    data.update(overrides)
    return data


def test_the_page_is_public_and_linked_from_the_login_page(client):
    assert client.get("/contact/").status_code == 200
    assert 'href="/contact/"' in client.get("/login/").content.decode()


def test_a_forgotten_password_goes_to_the_password_reset(client):
    response = client.post("/contact/", {"topic": "password"})
    assert response["Location"] == "/password-reset/"
    assert not ContactMessage.objects.exists()


def test_no_access_to_the_email_goes_to_the_account_recovery(client):
    response = client.post("/contact/", {"topic": "email_access", "nic_handle": "x"})
    assert response["Location"] == "/account-recovery/"
    assert not ContactMessage.objects.exists()


def test_another_problem_becomes_a_message_for_staff(client):
    response = client.post("/contact/", form())
    assert response["Location"] == "/contact/sent/"
    message = ContactMessage.objects.get()
    assert (message.nic_handle, message.email, message.category) == (
        "dm429850-OVH", "me@example.org", "billing")


def test_the_answer_is_the_same_for_an_existing_nic_handle(client, customer):
    unknown = client.post("/contact/", form(nic_handle="zz000000-OVH"))
    known = client.post("/contact/", form(nic_handle=customer.nic_handle))
    assert unknown["Location"] == known["Location"] == "/contact/sent/"


def test_a_message_needs_a_nic_handle_an_address_and_a_text(client):
    response = client.post("/contact/", {"topic": "technical"})
    assert set(response.context["form"].errors) == {"nic_handle", "email", "message"}


def test_the_form_is_rate_limited_per_ip(client):
    for _ in range(CONTACT_LIMIT_PER_IP[0]):
        client.post("/contact/", form())
    response = client.post("/contact/", form())
    assert "Too many requests" in response.content.decode()
    assert ContactMessage.objects.count() == CONTACT_LIMIT_PER_IP[0]


def test_staff_find_contact_messages_by_nic_handle(agent_client, client):
    client.post("/contact/", form(nic_handle="ab123456-OVH"))
    client.post("/contact/", form(nic_handle="cd654321-OVH"))
    rows = agent_client.get("/admin/support/contactmessage/", {"q": "ab123456"}).context[
        "cl"].result_list
    assert [row.nic_handle for row in rows] == ["ab123456-OVH"]


def test_staff_see_the_account_the_nic_handle_names(agent_client, client, customer):
    client.post("/contact/", form(nic_handle=customer.nic_handle.upper()))
    client.post("/contact/", form(nic_handle="zz000000-OVH"))
    known, unknown = ContactMessage.objects.order_by("pk")
    page = agent_client.get(f"/admin/support/contactmessage/{known.pk}/change/").content.decode()
    assert f"/admin/accounts/user/{customer.pk}/change/" in page
    page = agent_client.get(f"/admin/support/contactmessage/{unknown.pk}/change/").content.decode()
    shown = page.split("field-account")[1][:400]
    assert "None" in shown and "/admin/accounts/user/" not in shown


def test_an_agent_answers_by_email_in_the_visitors_language(
        agent_client, client, support_agent, django_capture_on_commit_callbacks):
    from django.core import mail

    client.post("/contact/", form(), HTTP_ACCEPT_LANGUAGE="fr")
    contact = ContactMessage.objects.get()
    assert contact.language == "fr"
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(f"/admin/support/contactmessage/{contact.pk}/change/",
                                     {"answer": "Nous avons remboursé le doublon.",
                                      "_save": "Save"})
    assert response.status_code == 302
    [email] = mail.outbox
    assert email.to == ["me@example.org"]
    assert "Nous avons remboursé le doublon." in email.body
    assert "dm429850-OVH" in email.body
    contact.refresh_from_db()
    assert contact.handled_by == support_agent and contact.handled_at is not None


def test_saving_without_an_answer_emails_nobody(agent_client, client,
                                                django_capture_on_commit_callbacks):
    from django.core import mail

    client.post("/contact/", form())
    contact = ContactMessage.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        agent_client.post(f"/admin/support/contactmessage/{contact.pk}/change/",
                          {"answer": "", "_save": "Save"})
    assert mail.outbox == []
    contact.refresh_from_db()
    assert contact.handled_at is None
