"""The beat job: requests waiting for the customer for 14 days close, with a notice;
two runs at once close and tell once; an answer from the customer keeps it open."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.utils import timezone

from conftest import run_at_once
from support.models import SupportRequest
from support.services import (
    support_request_reply,
    support_request_staff_reply,
    support_requests_auto_close,
)
from support.tasks import auto_close_requests_task
from support.tests.conftest import open_request


@pytest.fixture
def waiting(customer, support_agent):
    support_request = open_request(customer)
    support_request_staff_reply(support_request=support_request, staff_user=support_agent,
                                body="Did that help?")
    mail.outbox.clear()
    return support_request


@pytest.mark.django_db
def test_a_request_waiting_14_days_closes_with_a_notice(waiting, customer,
                                                        django_capture_on_commit_callbacks):
    with time_machine.travel(timezone.now() + timedelta(days=13, hours=23)):
        assert support_requests_auto_close() == 0
    with time_machine.travel(timezone.now() + timedelta(days=14, minutes=1)):
        with django_capture_on_commit_callbacks(execute=True):
            assert auto_close_requests_task() == {"closed": 1}
    waiting.refresh_from_db()
    assert waiting.status == SupportRequest.Status.CLOSED
    [notice] = mail.outbox
    assert notice.to == [customer.email] and waiting.number in notice.subject
    assert f"/account/support/{waiting.number}/" in notice.body
    event = waiting.events.get(action="auto_closed")
    assert event.actor is None


@pytest.mark.django_db
def test_the_customer_may_reopen_it_for_7_days(waiting, customer):
    with time_machine.travel(timezone.now() + timedelta(days=15)):
        support_requests_auto_close()
        waiting.refresh_from_db()
        assert waiting.may_be_reopened()


@pytest.mark.django_db
def test_an_open_request_is_never_closed_automatically(customer):
    support_request = open_request(customer)
    with time_machine.travel(timezone.now() + timedelta(days=60)):
        assert support_requests_auto_close() == 0
    support_request.refresh_from_db()
    assert support_request.status == SupportRequest.Status.OPEN


@pytest.mark.django_db
def test_an_answer_from_the_customer_restarts_the_wait(waiting, customer, support_agent):
    with time_machine.travel(timezone.now() + timedelta(days=10)):
        support_request_reply(support_request=waiting, customer=customer, body="Not yet")
        support_request_staff_reply(support_request=waiting, staff_user=support_agent,
                                    body="And now?")
    with time_machine.travel(timezone.now() + timedelta(days=15)):
        assert support_requests_auto_close() == 0


@pytest.mark.django_db
def test_running_twice_closes_and_tells_once(waiting, django_capture_on_commit_callbacks):
    with time_machine.travel(timezone.now() + timedelta(days=15)):
        with django_capture_on_commit_callbacks(execute=True):
            assert support_requests_auto_close() == 1
            assert support_requests_auto_close() == 0
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_close_and_tell_once(postgres, customer):
    from conftest import make_customer
    from notifications.models import OutboundEmail

    # Not the support_agent fixture: an earlier transactional test may have flushed the
    # "Support" group its migration created.
    agent = make_customer("agent@portal.example", first_name="Alex", last_name="Agent")

    requests = []
    for n in range(20):
        cache.clear()  # the limit on opening requests
        support_request = open_request(customer, subject=f"R{n}")
        support_request_staff_reply(support_request=support_request, staff_user=agent,
                                    body="?")
        requests.append(support_request)
    later = timezone.now() + timedelta(days=15)
    results, errors = run_at_once(lambda n: support_requests_auto_close(now=later), 4)
    assert errors == []
    assert sum(results) == 20
    assert OutboundEmail.objects.filter(kind="support_auto_closed").count() == 20
    assert SupportRequest.objects.filter(status="closed").count() == 20


@pytest.mark.django_db
def test_the_job_also_runs_by_hand(waiting):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    with time_machine.travel(timezone.now() + timedelta(days=15)):
        call_command("close_waiting_support_requests", stdout=out)
    assert out.getvalue() == "1 request(s) closed.\n"
