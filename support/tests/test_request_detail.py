"""The request's page: the conversation without internal notes, answering, closing and
reopening within 7 days; someone else's request is a 404."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.services.common import RateLimited
from support.models import SupportRequest
from support.services import (
    REPLY_LIMIT,
    support_request_note,
    support_request_reply,
    support_request_staff_reply,
)
from support.tests.conftest import open_request

pytestmark = pytest.mark.django_db


def url(support_request, action=""):
    return f"/account/support/{support_request.number}/{action}"


def test_another_customer_gets_404(client, customer, other_customer):
    support_request = open_request(customer)
    client.force_login(other_customer)
    assert client.get(url(support_request)).status_code == 404
    assert client.post(url(support_request), {"body": "Mine now"}).status_code == 404
    assert client.post(url(support_request, "close/")).status_code == 404
    assert client.post(url(support_request, "reopen/")).status_code == 404
    assert support_request.messages.count() == 1


def test_another_customer_does_not_see_it_in_the_list(client, customer, other_customer):
    support_request = open_request(customer)
    client.force_login(other_customer)
    assert support_request.number not in client.get("/account/support/").content.decode()


def test_internal_notes_are_never_shown_to_the_customer(customer_client, customer,
                                                        support_agent):
    support_request = open_request(customer)
    support_request_note(support_request=support_request, staff_user=support_agent,
                         body="SECRET-NOTE: customer already refunded twice")
    support_request_staff_reply(support_request=support_request, staff_user=support_agent,
                                body="We restarted your server.")
    page = customer_client.get(url(support_request)).content.decode()
    assert "We restarted your server." in page
    assert "SECRET-NOTE" not in page
    assert "SECRET-NOTE" not in customer_client.get("/account/support/").content.decode()


def test_the_customer_answers_and_the_request_waits_for_staff_again(customer_client, customer,
                                                                    support_agent):
    support_request = open_request(customer)
    support_request_staff_reply(support_request=support_request, staff_user=support_agent,
                                body="Which domain?")
    assert SupportRequest.objects.get().status == SupportRequest.Status.WAITING
    response = customer_client.post(url(support_request), {"body": "example.com"})
    assert response.status_code == 302
    support_request.refresh_from_db()
    assert support_request.status == SupportRequest.Status.OPEN
    assert support_request.messages.last().body == "example.com"


def test_answers_are_rate_limited(customer):
    support_request = open_request(customer)
    for _ in range(REPLY_LIMIT[0]):
        support_request_reply(support_request=support_request, customer=customer, body="More")
    with pytest.raises(RateLimited):
        support_request_reply(support_request=support_request, customer=customer, body="More")


def test_the_list_shows_open_requests_first(customer_client, customer, support_agent):
    first = open_request(customer, subject="First")
    waiting = open_request(customer, subject="Waiting")
    support_request_staff_reply(support_request=waiting, staff_user=support_agent, body="?")
    closed = open_request(customer, subject="Closed")
    customer_client.post(url(closed, "close/"))
    latest = open_request(customer, subject="Latest")
    rows = customer_client.get("/account/support/").context["page"].object_list
    assert [row.subject for row in rows] == ["Latest", "First", "Waiting", "Closed"]
    assert {first.number, latest.number} == {rows[0].number, rows[1].number}


def test_a_closed_request_takes_no_answer(customer_client, customer):
    support_request = open_request(customer)
    customer_client.post(url(support_request, "close/"))
    response = customer_client.post(url(support_request), {"body": "One more thing"})
    assert "This request is closed." in response.content.decode()
    assert support_request.messages.count() == 1


def test_a_closed_request_reopens_within_7_days(customer_client, customer):
    support_request = open_request(customer)
    customer_client.post(url(support_request, "close/"))
    with time_machine.travel(timezone.now() + timedelta(days=6, hours=23)):
        page = customer_client.get(url(support_request)).content.decode()
        assert 'id="reopen"' in page
        customer_client.post(url(support_request, "reopen/"))
    support_request.refresh_from_db()
    assert support_request.status == SupportRequest.Status.OPEN
    assert support_request.events.filter(action="reopened").exists()


def test_after_7_days_a_new_request_is_needed(customer_client, customer):
    support_request = open_request(customer)
    customer_client.post(url(support_request, "close/"))
    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        page = customer_client.get(url(support_request)).content.decode()
        assert 'id="reopen"' not in page and "can no longer be reopened" in page
        response = customer_client.post(url(support_request, "reopen/"), follow=True)
    assert "more than 7 days ago" in response.content.decode()
    support_request.refresh_from_db()
    assert support_request.status == SupportRequest.Status.CLOSED


def test_the_list_costs_the_same_queries_for_3_or_60_requests(customer_client, customer,
                                                              django_assert_max_num_queries):
    for n in range(3):
        open_request(customer, subject=f"Request {n}")
    with django_assert_max_num_queries(4):
        customer_client.get("/account/support/")
    SupportRequest.objects.bulk_create([
        SupportRequest(number=f"X{n:06d}", customer=customer, nic_handle=customer.nic_handle,
                       category="other", subject=f"Bulk {n}") for n in range(60)])
    with django_assert_max_num_queries(4):
        response = customer_client.get("/account/support/?page=2")
    assert len(response.context["page"].object_list) == 25


def test_the_page_costs_the_same_queries_for_a_long_conversation(
        customer_client, customer, support_agent, django_assert_max_num_queries):
    support_request = open_request(customer)
    for n in range(10):
        support_request_staff_reply(support_request=support_request, staff_user=support_agent,
                                    body=f"Reply {n}")
    with django_assert_max_num_queries(6):
        customer_client.get(url(support_request))
