import pytest
from django.core import mail

from notifications.models import OutboundEmail
from notifications.delivery import email_deliver
from notifications.services import email_queue

pytestmark = pytest.mark.django_db



def welcome(user):
    return email_queue(template="password_changed", to=user.email, user=user,
                       context={"ip": "198.51.100.7", "how": "change"})


def test_an_agent_sees_status_attempts_error_and_the_rendered_body(agent_client, customer):
    row = welcome(customer)
    OutboundEmail.objects.filter(pk=row.pk).update(status="failed", attempts=8,
                                                   last_error="550 mailbox unavailable")
    listing = agent_client.get("/admin/notifications/outboundemail/").content.decode()
    assert "550 mailbox unavailable" in listing and customer.email in listing
    page = agent_client.get(f"/admin/notifications/outboundemail/{row.pk}/change/").content.decode()
    assert customer.nic_handle in page
    html_url = f"/admin/notifications/outboundemail/{row.pk}/html/"
    assert f'sandbox="" src="{html_url}"' in page
    assert customer.nic_handle in agent_client.get(html_url).content.decode()


def test_an_agent_resends_a_failed_email(agent_client, customer, django_capture_on_commit_callbacks):
    row = welcome(customer)
    OutboundEmail.objects.filter(pk=row.pk).update(status="failed", attempts=8)
    with django_capture_on_commit_callbacks(execute=True):
        agent_client.post("/admin/notifications/outboundemail/",
                          {"action": "resend", "_selected_action": [row.pk]})
    row.refresh_from_db()
    assert row.status == "sent" and len(mail.outbox) == 1
    assert customer.security_events.filter(action="staff_action").exists()


def test_resending_a_sent_email_makes_a_new_row(agent_client, customer, django_capture_on_commit_callbacks):
    row = welcome(customer)
    email_deliver(email_id=row.pk)
    with django_capture_on_commit_callbacks(execute=True):
        agent_client.post("/admin/notifications/outboundemail/",
                          {"action": "resend", "_selected_action": [row.pk]})
    assert OutboundEmail.objects.filter(user=customer, kind="password_changed").count() == 2
    assert len(mail.outbox) == 2


def test_outbox_rows_cannot_be_edited_or_deleted(agent_client, customer):
    row = welcome(customer)
    agent_client.post(f"/admin/notifications/outboundemail/{row.pk}/change/", {"subject": "x"})
    assert agent_client.post(f"/admin/notifications/outboundemail/{row.pk}/delete/",
                             {"post": "yes"}).status_code == 403
    row.refresh_from_db()
    assert row.subject != "x"


def test_an_agent_cannot_resend_a_staff_accounts_email_and_is_told_which(
    agent_client, customer, superuser, django_capture_on_commit_callbacks
):
    theirs, mine = welcome(superuser), welcome(customer)
    OutboundEmail.objects.filter(pk__in=[theirs.pk, mine.pk]).update(status="failed", attempts=8)
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post("/admin/notifications/outboundemail/", {
            "action": "resend", "_selected_action": [theirs.pk, mine.pk]}, follow=True)
    theirs.refresh_from_db()
    assert theirs.status == "failed" and [m.to for m in mail.outbox] == [[customer.email]]
    assert not superuser.security_events.filter(action="staff_action").exists()
    shown = [str(m) for m in response.context["messages"]]
    assert "1 email queued again." in shown
    assert any(superuser.nic_handle in m and "Only a superuser may act on a staff account." in m
               for m in shown)


def test_a_superuser_resends_a_staff_accounts_email(
    superuser_client, support_agent, django_capture_on_commit_callbacks
):
    row = welcome(support_agent)
    OutboundEmail.objects.filter(pk=row.pk).update(status="failed", attempts=8)
    with django_capture_on_commit_callbacks(execute=True):
        superuser_client.post("/admin/notifications/outboundemail/",
                              {"action": "resend", "_selected_action": [row.pk]})
    assert [m.to for m in mail.outbox] == [[support_agent.email]]
