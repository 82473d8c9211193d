"""Emails queued in bulk (one INSERT ... SELECT, rendered later by the worker): their ids,
their delivery, and how the history and the admin show them before the worker has."""

from datetime import datetime, timezone
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.db.models import F, Value

from accounts.models import User
from notifications import services
from notifications.delivery import email_deliver
from notifications.models import OutboundEmail

pytestmark = pytest.mark.django_db

FROZEN = datetime(2026, 6, 1, 9, 0, tzinfo=timezone.utc)


def queue_bulk(users):
    return services.email_queue_select(
        template="email_changed", source=users, user=F("pk"), to=F("email"),
        language=F("language"), context={"old_email": Value("before@example.org"),
                                         "new_email": F("email")})


def test_it_returns_the_ids_of_the_rows_it_wrote(customer, other_customer):
    ids = queue_bulk(User.objects.filter(pk__in=[customer.pk, other_customer.pk]))
    rows = OutboundEmail.objects.filter(kind="email_changed")
    assert sorted(ids) == sorted(rows.values_list("pk", flat=True)) and len(ids) == 2
    assert set(rows.values_list("to_address", flat=True)) == {customer.email, other_customer.email}


def test_two_bulk_queues_in_the_same_instant_each_get_only_their_own_rows(
    customer, other_customer, django_capture_on_commit_callbacks
):
    with mock.patch("portal.queueing.task_send") as send, \
            django_capture_on_commit_callbacks(execute=True), \
            time_machine.travel(FROZEN, tick=False):
        first = queue_bulk(User.objects.filter(pk=customer.pk))
        second = queue_bulk(User.objects.filter(pk=other_customer.pk))
    assert len(first) == len(second) == 1 and set(first).isdisjoint(second)
    handed_over = [email_id for call in send.call_args_list for email_id in call.args[1]]
    assert sorted(handed_over) == sorted(first + second)


def test_a_bulk_row_is_unrendered_until_the_worker_renders_it_once(customer):
    [email_id] = queue_bulk(User.objects.filter(pk=customer.pk))
    row = OutboundEmail.objects.get(pk=email_id)
    assert row.rendered_at is None and not row.is_rendered
    email_deliver(email_id=email_id)
    row.refresh_from_db()
    assert row.rendered_at is not None and row.is_rendered
    assert customer.nic_handle in row.subject and "before@example.org" in row.body_text
    assert mail.outbox[0].subject == row.subject


def test_an_email_queued_one_by_one_is_rendered_when_queued(customer):
    row = services.email_queue(template="password_changed", to=customer.email, user=customer,
                               context={"ip": "198.51.100.7", "how": "change"})
    assert row.rendered_at is not None and row.is_rendered


def test_the_history_shows_the_subject_of_an_email_not_rendered_yet(customer_client, customer):
    [email_id] = queue_bulk(User.objects.filter(pk=customer.pk))
    page = customer_client.get("/account/emails/").content.decode()
    assert f"The email address of {customer.nic_handle} has been changed" in page
    detail = customer_client.get(f"/account/emails/{email_id}/").content.decode()
    assert "before@example.org" in detail
    html = customer_client.get(f"/account/emails/{email_id}/html/")
    assert html.status_code == 200 and customer.nic_handle in html.content.decode()
    row = OutboundEmail.objects.get(pk=email_id)
    assert (row.subject, row.rendered_at) == ("", None)  # reading wrote nothing


def test_the_history_shows_an_unrendered_email_in_the_customers_language(customer_client,
                                                                          customer):
    customer.language = "es"
    customer.save()
    queue_bulk(User.objects.filter(pk=customer.pk))
    page = customer_client.get("/account/emails/").content.decode()
    assert "ha cambiado" in page


def test_opening_an_email_in_admin_writes_nothing(agent_client, customer):
    [email_id] = queue_bulk(User.objects.filter(pk=customer.pk))
    page = agent_client.get(f"/admin/notifications/outboundemail/{email_id}/change/")
    assert page.status_code == 200 and "before@example.org" in page.content.decode()
    html = agent_client.get(f"/admin/notifications/outboundemail/{email_id}/html/")
    assert html.status_code == 200 and customer.nic_handle in html.content.decode()
    row = OutboundEmail.objects.get(pk=email_id)
    assert (row.subject, row.body_text, row.rendered_at) == ("", "", None)


def test_resending_a_sent_bulk_email_copies_what_was_sent(agent_client, customer,
                                                          django_capture_on_commit_callbacks):
    [email_id] = queue_bulk(User.objects.filter(pk=customer.pk))
    email_deliver(email_id=email_id)
    with django_capture_on_commit_callbacks(execute=True):
        agent_client.post("/admin/notifications/outboundemail/",
                          {"action": "resend", "_selected_action": [email_id]})
    first, copy = OutboundEmail.objects.filter(kind="email_changed").order_by("pk")
    assert copy.status == "sent" and copy.subject == first.subject
    assert [m.subject for m in mail.outbox] == [first.subject, first.subject]
