"""The whole round trip: the customer opens a request, an agent answers from admin, the
customer is emailed a link (no secret) and answers from the page."""

import re

import pytest
from django.core import mail

from notifications.models import OutboundEmail
from support.models import SupportEvent, SupportRequest

pytestmark = pytest.mark.django_db


def admin_form(**overrides):
    data = {"assignee": "", "canned_answer": "", "body_kind": "reply", "body": "",
            "new_status": "", "_save": "Save"}
    data.update(overrides)
    return data


def test_the_full_round_trip_with_emails(customer_client, customer, agent_client,
                                         support_agent, django_capture_on_commit_callbacks):
    customer_client.post("/account/support/new/", {
        "category": "technical", "subject": "Site down", "body": "Since this morning."})
    support_request = SupportRequest.objects.get()
    assert mail.outbox == []  # opening emails nobody

    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(
            f"/admin/support/supportrequest/{support_request.pk}/change/",
            admin_form(body="We restarted the server. Is it better?"))
    assert response.status_code == 302
    support_request.refresh_from_db()
    assert support_request.status == SupportRequest.Status.WAITING

    [email] = mail.outbox
    assert email.to == [customer.email]
    assert support_request.number in email.subject and customer.nic_handle in email.subject
    link = f"http://127.0.0.1:8000/account/support/{support_request.number}/"
    assert link in email.body
    assert "We restarted" not in email.body  # the answer is read behind the login
    stored = OutboundEmail.objects.get(kind="support_reply")
    assert stored.sealed_secrets == "" and link in stored.body_text

    path = re.search(r"http://127\.0\.0\.1:8000(/account/support/\S+/)", email.body)[1]
    page = customer_client.get(path).content.decode()
    assert "We restarted the server. Is it better?" in page
    customer_client.post(path, {"body": "Yes, thank you."})
    support_request.refresh_from_db()
    assert support_request.status == SupportRequest.Status.OPEN
    assert [m.body for m in support_request.messages.all()] == [
        "Since this morning.", "We restarted the server. Is it better?", "Yes, thank you."]
    actions = list(support_request.events.values_list("action", "actor_name"))
    agent_name = f"Alex Agent ({support_agent.nic_handle})"
    assert actions == [
        (SupportEvent.Action.OPENED, f"Daniel Martín ({customer.nic_handle})"),
        (SupportEvent.Action.REPLIED, agent_name),
        (SupportEvent.Action.STATUS, agent_name),
        (SupportEvent.Action.CUSTOMER_REPLIED, f"Daniel Martín ({customer.nic_handle})"),
    ]


def test_the_reply_email_is_in_the_customers_language(customer, support_agent,
                                                      django_capture_on_commit_callbacks):
    from support.services import support_request_staff_reply
    from support.tests.conftest import open_request

    customer.language = "es"
    customer.save()
    support_request = open_request(customer)
    with django_capture_on_commit_callbacks(execute=True):
        support_request_staff_reply(support_request=support_request, staff_user=support_agent,
                                    body="Hola")
    assert OutboundEmail.objects.get(kind="support_reply").language == "es"
