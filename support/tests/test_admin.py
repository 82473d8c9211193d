"""Staff's side: the queue by waiting time, search, filters, assignment, notes, canned
answers, the customer's context beside the request, and the log."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.services import email_change_request
from billing.tests.conftest import catalogue_product, place_order
from conftest import make_customer
from support.models import CannedAnswer, SupportMessage, SupportRequest
from support.services import support_request_staff_reply
from support.tests.conftest import open_request
from support.tests.test_round_trip import admin_form

pytestmark = pytest.mark.django_db
QUEUE = "/admin/support/supportrequest/"


def change_url(support_request):
    return f"{QUEUE}{support_request.pk}/change/"


def test_the_queue_puts_the_longest_waiting_first(agent_client, customer, support_agent):
    now = timezone.now()
    recent = open_request(customer, subject="Recent", now=now - timedelta(hours=1))
    old = open_request(customer, subject="Old", now=now - timedelta(days=2))
    answered = open_request(customer, subject="Answered", now=now - timedelta(days=5))
    support_request_staff_reply(support_request=answered, staff_user=support_agent, body="?")
    rows = list(agent_client.get(QUEUE).context["cl"].result_list)
    assert [row.pk for row in rows] == [old.pk, recent.pk, answered.pk]


@pytest.mark.parametrize("query", ["nic", "number", "subject", "message"])
def test_an_agent_finds_a_request_by_nic_handle_number_or_text(agent_client, customer,
                                                               other_customer, query):
    wanted = open_request(customer, subject="Mailbox full", body="quota exceeded on mx")
    open_request(other_customer, subject="Other", body="something else")
    q = {"nic": customer.nic_handle, "number": wanted.number, "subject": "mailbox",
         "message": "QUOTA exceeded"}[query]
    rows = list(agent_client.get(QUEUE, {"q": q}).context["cl"].result_list)
    assert [row.pk for row in rows] == [wanted.pk]


def test_the_queue_filters_by_status_category_and_assignee(agent_client, customer,
                                                           support_agent):
    billing = open_request(customer, category="billing")
    technical = open_request(customer, category="technical")
    agent_client.post(change_url(technical), admin_form(assignee=support_agent.pk))
    assert [r.pk for r in agent_client.get(QUEUE, {"category__exact": "billing"})
            .context["cl"].result_list] == [billing.pk]
    assert [r.pk for r in agent_client.get(QUEUE, {"assignee__id__exact": support_agent.pk})
            .context["cl"].result_list] == [technical.pk]
    assert [r.pk for r in agent_client.get(QUEUE, {"status__exact": "closed"})
            .context["cl"].result_list] == []


def test_the_queue_refuses_a_parameter_it_does_not_offer(agent_client, customer):
    open_request(customer)
    assert agent_client.get(QUEUE, {"customer__password__startswith": "a"}).status_code == 400


def test_an_agent_assigns_a_request_and_it_is_logged(agent_client, customer, support_agent):
    support_request = open_request(customer)
    agent_client.post(change_url(support_request), admin_form(assignee=support_agent.pk))
    support_request.refresh_from_db()
    assert support_request.assignee == support_agent
    event = support_request.events.get(action="assigned")
    assert event.actor == support_agent and event.detail == {"assignee": support_agent.nic_handle}


def test_a_customer_cannot_be_assigned(agent_client, customer, other_customer):
    support_request = open_request(customer)
    response = agent_client.post(change_url(support_request),
                                 admin_form(assignee=other_customer.pk))
    assert "assignee" in response.context["adminform"].form.errors
    support_request.refresh_from_db()
    assert support_request.assignee is None


def test_an_internal_note_emails_nobody_and_keeps_the_status(agent_client, customer,
                                                             django_capture_on_commit_callbacks):
    support_request = open_request(customer)
    with django_capture_on_commit_callbacks(execute=True):
        agent_client.post(change_url(support_request),
                          admin_form(body_kind="note", body="Looks like a DNS issue."))
    assert mail.outbox == []
    note = SupportMessage.objects.get(kind=SupportMessage.Kind.NOTE)
    assert note.body == "Looks like a DNS issue."
    support_request.refresh_from_db()
    assert support_request.status == SupportRequest.Status.OPEN
    page = agent_client.get(change_url(support_request)).content.decode()
    assert "Looks like a DNS issue." in page and "Internal note" in page


def test_a_canned_answer_starts_the_reply(agent_client, customer):
    canned = CannedAnswer.objects.create(title="Restart", body="Please restart your server.")
    support_request = open_request(customer)
    agent_client.post(change_url(support_request),
                      admin_form(canned_answer=canned.pk, body="Then tell us."))
    reply = SupportMessage.objects.get(kind=SupportMessage.Kind.REPLY)
    assert reply.body == "Please restart your server.\n\nThen tell us."


def test_an_agent_closes_a_request_and_it_is_logged_with_the_agents_name(
        agent_client, customer, support_agent):
    support_request = open_request(customer)
    agent_client.post(change_url(support_request), admin_form(new_status="closed"))
    support_request.refresh_from_db()
    assert support_request.status == SupportRequest.Status.CLOSED
    event = support_request.events.get(action="status")
    assert event.actor_name == f"Alex Agent ({support_agent.nic_handle})"
    assert event.detail == {"status": "closed"}


def test_a_reply_may_keep_the_request_open(agent_client, customer):
    support_request = open_request(customer)
    agent_client.post(change_url(support_request),
                      admin_form(body="Looking into it.", new_status="open"))
    support_request.refresh_from_db()
    assert support_request.status == SupportRequest.Status.OPEN


def test_beside_the_request_the_customers_services_invoices_log_and_requests(
        agent_client, customer, other_customer):
    _order, invoice, service = place_order(customer, catalogue_product("web-hosting"),
                                           name="daniel.example")
    _o, other_invoice, _s = place_order(other_customer, catalogue_product("web-hosting"),
                                        name="olivia.example")
    change = email_change_request(user=customer, new_email="new@example.org")
    support_request = open_request(customer)
    page = agent_client.get(change_url(support_request)).content.decode()
    assert f"/admin/billing/service/{service.pk}/change/" in page
    assert f"/admin/billing/invoice/{invoice.pk}/change/" in page
    assert other_invoice.number not in page and "olivia.example" not in page
    assert f"/admin/accounts/emailchangerequest/{change.pk}/change/" in page
    assert "Email change requested" in page  # the security log


def test_an_agent_sees_attachments_and_notes_in_the_conversation(agent_client, customer):
    from support.tests.conftest import PDF, upload

    support_request = open_request(customer, attachments=[upload("r.pdf", PDF)])
    attachment = support_request.messages.get().attachments.get()
    page = agent_client.get(change_url(support_request)).content.decode()
    assert f"/account/support/attachments/{attachment.public_id}/" in page


def test_requests_are_not_added_or_deleted_in_admin(agent_client, superuser_client, customer):
    support_request = open_request(customer)
    assert superuser_client.get(f"{QUEUE}add/").status_code == 403
    assert superuser_client.get(f"{QUEUE}{support_request.pk}/delete/").status_code == 403


def test_the_support_group_may_read_and_answer_requests(support_agent):
    assert support_agent.has_perm("support.view_supportrequest")
    assert support_agent.has_perm("support.change_supportrequest")
    assert not support_agent.has_perm("support.delete_supportrequest")


@pytest.mark.parametrize("count", [10, 1000])
def test_the_queue_costs_the_same_queries_for_10_or_1000_requests(
        agent_client, customer, support_agent, count, django_assert_max_num_queries):
    customers = [customer, *(make_customer(f"c{n}@example.org") for n in range(3))]
    now = timezone.now()
    SupportRequest.objects.bulk_create([
        SupportRequest(number=f"B{n:07d}", customer=customers[n % 4],
                       nic_handle=customers[n % 4].nic_handle, category="other",
                       subject=f"Bulk {n}", assignee=support_agent if n % 2 else None,
                       status_changed_at=now - timedelta(minutes=n))
        for n in range(count)], batch_size=500)
    with django_assert_max_num_queries(9):
        response = agent_client.get(QUEUE)
    assert response.status_code == 200
    with django_assert_max_num_queries(9):
        agent_client.get(QUEUE, {"q": "Bulk 1"})


def test_only_agents_and_superusers_are_offered_as_assignees(agent_client, customer,
                                                            support_agent, superuser):
    staff_outside_support = make_customer("staff@portal.example", first_name="Sam",
                                          last_name="Staff")
    staff_outside_support.is_staff = True
    staff_outside_support.save()
    support_request = open_request(customer)
    form = agent_client.get(change_url(support_request)).context["adminform"].form
    assert set(form.fields["assignee"].queryset) == {support_agent, superuser}
    response = agent_client.post(change_url(support_request),
                                 admin_form(assignee=staff_outside_support.pk))
    assert "assignee" in response.context["adminform"].form.errors


def test_an_agent_attaches_a_file_to_a_reply_and_the_customer_downloads_it(
        agent_client, customer_client, customer):
    from support.tests.conftest import PDF, upload

    support_request = open_request(customer)
    agent_client.post(change_url(support_request),
                      admin_form(body="Here is the report.",
                                 attachments=[upload("report.pdf", PDF)]))
    attachment = SupportMessage.objects.get(kind=SupportMessage.Kind.REPLY).attachments.get()
    response = customer_client.get(f"/account/support/attachments/{attachment.public_id}/")
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF


def test_an_agents_attachment_is_checked_by_content_too(agent_client, customer):
    from support.tests.conftest import upload

    support_request = open_request(customer)
    response = agent_client.post(change_url(support_request),
                                 admin_form(body="Run this.",
                                            attachments=[upload("fix.pdf", b"MZ\x90\x00")]))
    assert "fix.pdf is not a PDF" in str(response.context["adminform"].form.errors)
    assert not SupportMessage.objects.filter(kind=SupportMessage.Kind.REPLY).exists()
