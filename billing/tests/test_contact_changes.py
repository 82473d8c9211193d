"""Contact changes: the administrator contact asks, both accounts accept by their own
single-use link (or from the page), and the roles move; refusals, expiry, cancels,
resends, the overdue rule, and no enumeration of NIC handles."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import SecurityEvent
from billing.models import ContactChangeRequest, Invoice, Service
from billing.services import contacts as services
from billing.services.invoices import invoice_mark_paid
from billing.services.renewals import renewals_issue_due
from conftest import make_customer, run_at_once
from portal.errors import DomainError

from .conftest import place_order

pytestmark = pytest.mark.django_db

State = ContactChangeRequest.State
Action = SecurityEvent.Action
LINK = re.compile(r"/account/contacts/answer/([\w-]+)/")


@pytest.fixture
def service(customer, hosting, staff):
    _o, invoice, service = place_order(customer, hosting, name="shop.example",
                                       now=timezone.now() - timedelta(days=1))
    invoice_mark_paid(invoice=invoice, staff_user=staff)
    service.refresh_from_db()
    return service


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def ask(service, requester, handle, roles=("tech",), on_commit=None):
    """The administrator contact's request through the page, its worker run."""
    with on_commit(execute=True):
        response = client_for(requester).post(
            reverse("contacts:change-new", args=[service.pk]),
            {"roles": list(roles), "nic_handle": handle})
    return response


def link_for(user):
    """The token of the newest contact-change link emailed to `user`."""
    tokens = [LINK.search(m.body).group(1) for m in mail.outbox
              if m.to == [user.email] and LINK.search(m.body)]
    return tokens[-1] if tokens else None


def answer_by_link(user, token, decision, on_commit):
    with on_commit(execute=True):
        return client_for(user).post(reverse("contacts:answer", args=[token]),
                                     {"decision": decision})


def actions(user):
    return list(SecurityEvent.objects.filter(user=user, action__startswith="contact_change")
                .order_by("pk").values_list("action", flat=True))


def test_both_accept_by_their_links_and_the_roles_move(
        service, customer, other_customer, django_capture_on_commit_callbacks):
    on_commit = django_capture_on_commit_callbacks
    response = ask(service, customer, other_customer.nic_handle.upper(),
                   roles=("tech", "billing"), on_commit=on_commit)
    assert response.status_code == 302
    change = ContactChangeRequest.objects.get()
    assert change.state == State.VALIDATING and change.target == other_customer
    holder_link, target_link = link_for(customer), link_for(other_customer)
    assert holder_link and target_link and holder_link != target_link

    page = client_for(other_customer).get(reverse("contacts:answer", args=[target_link]))
    assert page.status_code == 200 and b"shop.example" in page.content
    answer_by_link(other_customer, target_link, "accept", on_commit)
    service.refresh_from_db()
    assert service.tech_contact == customer  # not until both accept
    mail.outbox.clear()
    answer_by_link(customer, holder_link, "accept", on_commit)

    service.refresh_from_db()
    change.refresh_from_db()
    assert change.state == State.DONE
    assert (service.admin_contact, service.tech_contact, service.billing_contact) == (
        customer, other_customer, other_customer)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([customer.email, other_customer.email])
    assert all("changed" in m.subject for m in mail.outbox)
    # Every step in both accounts' logs: asked, each acceptance, applied.
    for account in (customer, other_customer):
        assert actions(account) == [Action.CONTACT_CHANGE_REQUESTED,
                                    Action.CONTACT_CHANGE_ACCEPTED,
                                    Action.CONTACT_CHANGE_ACCEPTED,
                                    Action.CONTACT_CHANGE_APPLIED]


def test_both_accept_from_the_contacts_page(service, customer, other_customer,
                                            django_capture_on_commit_callbacks):
    ask(service, customer, other_customer.nic_handle, on_commit=django_capture_on_commit_callbacks)
    change = ContactChangeRequest.objects.get()
    for user in (customer, other_customer):
        page = client_for(user).get(reverse("contacts:contacts"))
        assert reverse("contacts:accept", args=[change.pk]).encode() in page.content
        client_for(user).post(reverse("contacts:accept", args=[change.pk]))
    service.refresh_from_db()
    assert service.tech_contact == other_customer


def test_one_refusal_closes_the_request_and_nothing_moves(
        service, customer, other_customer, django_capture_on_commit_callbacks):
    on_commit = django_capture_on_commit_callbacks
    ask(service, customer, other_customer.nic_handle, on_commit=on_commit)
    target_link = link_for(other_customer)
    answer_by_link(customer, link_for(customer), "accept", on_commit)
    mail.outbox.clear()
    answer_by_link(other_customer, target_link, "refuse", on_commit)
    change = ContactChangeRequest.objects.get()
    service.refresh_from_db()
    assert (change.state, change.reason) == (State.REFUSED, "target_refused")
    assert service.tech_contact == customer
    assert sorted(m.to[0] for m in mail.outbox) == sorted([customer.email, other_customer.email])
    assert Action.CONTACT_CHANGE_REFUSED in actions(customer)
    assert Action.CONTACT_CHANGE_REFUSED in actions(other_customer)


def test_a_request_not_accepted_by_both_within_seven_days_expires_once(
        service, customer, other_customer, django_capture_on_commit_callbacks):
    on_commit = django_capture_on_commit_callbacks
    ask(service, customer, other_customer.nic_handle, on_commit=on_commit)
    answer_by_link(customer, link_for(customer), "accept", on_commit)
    target_link = link_for(other_customer)
    later = timezone.now() + timedelta(days=6, hours=23)
    with time_machine.travel(later, tick=False):
        assert services.contact_changes_expire_due() == 0
    mail.outbox.clear()
    with time_machine.travel(later + timedelta(hours=2), tick=False):
        with on_commit(execute=True):
            assert services.contact_changes_expire_due() == 1
            assert services.contact_changes_expire_due() == 0
        response = answer_by_link(other_customer, target_link, "accept", on_commit)
    assert response.status_code == 404  # the link died with the request
    assert ContactChangeRequest.objects.get().state == State.EXPIRED
    assert sorted(m.to[0] for m in mail.outbox) == sorted([customer.email, other_customer.email])
    assert Action.CONTACT_CHANGE_EXPIRED in actions(other_customer)


def test_an_accept_after_seven_days_is_refused_even_before_the_job_ran(
        service, customer, other_customer, django_capture_on_commit_callbacks):
    ask(service, customer, other_customer.nic_handle,
        on_commit=django_capture_on_commit_callbacks)
    change = ContactChangeRequest.objects.get()
    with time_machine.travel(timezone.now() + timedelta(days=8), tick=False):
        with pytest.raises(DomainError):
            services.contact_change_accept(change=change, user=customer)


def test_a_used_link_no_longer_works(service, customer, other_customer,
                                     django_capture_on_commit_callbacks):
    on_commit = django_capture_on_commit_callbacks
    ask(service, customer, other_customer.nic_handle, on_commit=on_commit)
    token = link_for(customer)
    answer_by_link(customer, token, "accept", on_commit)
    assert client_for(customer).get(reverse("contacts:answer", args=[token])).status_code == 404
    assert answer_by_link(customer, token, "refuse", on_commit).status_code == 404
    assert ContactChangeRequest.objects.get().state == State.VALIDATING


def test_resend_issues_new_links_and_voids_the_old_ones(
        service, customer, other_customer, django_capture_on_commit_callbacks):
    on_commit = django_capture_on_commit_callbacks
    ask(service, customer, other_customer.nic_handle, on_commit=on_commit)
    old = link_for(other_customer)
    change = ContactChangeRequest.objects.get()
    with on_commit(execute=True):
        client_for(customer).post(reverse("contacts:resend", args=[change.pk]))
    new = link_for(other_customer)
    assert new != old
    assert client_for(other_customer).get(
        reverse("contacts:answer", args=[old])).status_code == 404
    assert client_for(other_customer).get(
        reverse("contacts:answer", args=[new])).status_code == 200
    assert Action.CONTACT_CHANGE_LINKS_SENT in actions(other_customer)


def test_a_link_opened_by_another_account_is_not_valid(
        service, customer, other_customer, django_capture_on_commit_callbacks):
    ask(service, customer, other_customer.nic_handle,
        on_commit=django_capture_on_commit_callbacks)
    third = make_customer("third@example.com", first_name="Tom", last_name="Third")
    response = client_for(third).get(reverse("contacts:answer", args=[link_for(other_customer)]))
    assert response.status_code == 404


def test_the_requester_cancels_and_both_are_told(service, customer, other_customer,
                                                 django_capture_on_commit_callbacks):
    on_commit = django_capture_on_commit_callbacks
    ask(service, customer, other_customer.nic_handle, on_commit=on_commit)
    change = ContactChangeRequest.objects.get()
    mail.outbox.clear()
    with on_commit(execute=True):
        client_for(customer).post(reverse("contacts:cancel", args=[change.pk]))
    change.refresh_from_db()
    assert (change.state, change.reason) == (State.ABORTED, "cancelled")
    assert sorted(m.to[0] for m in mail.outbox) == sorted([customer.email, other_customer.email])


def _overdue_invoice(user):
    due = timezone.now() - timedelta(days=5)
    return Invoice.objects.create(customer=user, kind=Invoice.Kind.RENEWAL,
                                  status=Invoice.Status.ISSUED, created_at=due, issued_at=due,
                                  due_at=due, year=due.year, sequence=9999,
                                  number=f"FR{due.year}-009999")


def test_an_overdue_invoice_of_the_requester_refuses_the_request_with_the_reason(
        service, customer, other_customer, django_capture_on_commit_callbacks):
    _overdue_invoice(customer)
    response = ask(service, customer, other_customer.nic_handle,
                   on_commit=django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert b"overdue invoice" in response.content
    assert not ContactChangeRequest.objects.exists()


def test_an_overdue_invoice_of_the_new_contact_refuses_the_change_when_both_accepted(
        service, customer, other_customer, django_capture_on_commit_callbacks):
    on_commit = django_capture_on_commit_callbacks
    ask(service, customer, other_customer.nic_handle, on_commit=on_commit)
    _overdue_invoice(other_customer)
    answer_by_link(customer, link_for(customer), "accept", on_commit)
    client = client_for(other_customer)
    with on_commit(execute=True):
        client.post(reverse("contacts:answer", args=[link_for(other_customer)]),
                    {"decision": "accept"})
    change = ContactChangeRequest.objects.get()
    assert (change.state, change.reason) == (State.REFUSED, "overdue")
    service.refresh_from_db()
    assert service.tech_contact == customer
    page = client.get(reverse("contacts:contacts"))
    assert b"An account has an overdue invoice" in page.content


def test_an_unknown_nic_handle_gets_the_same_answer_and_work_as_a_known_one(
        customer, hosting, staff, other_customer):
    """The web request writes one row and looks nothing up; the page the requester sees
    afterwards is the same, and the holder gets a link either way."""
    answers, query_counts = [], []
    for handle, name in ((other_customer.nic_handle, "one.example"), ("zz999999-OVH", "two.example")):
        _o, invoice, service = place_order(customer, hosting, name=name,
                                           now=timezone.now() - timedelta(days=1))
        invoice_mark_paid(invoice=invoice, staff_user=staff)
        service.refresh_from_db()
        client = client_for(customer)
        client.get(reverse("contacts:contacts"))  # session and user warm, as on a real visit
        with CaptureQueriesContext(connection) as queries:
            response = client.post(reverse("contacts:change-new", args=[service.pk]),
                                   {"roles": ["tech"], "nic_handle": handle})
        query_counts.append(len(queries))
        answers.append((response.status_code, response["Location"],
                        client.get(response["Location"]).content.decode()
                        .replace(name, "NAME").replace(handle, "HANDLE")
                        .split('id="sent-requests"')[1]))
    assert query_counts[0] == query_counts[1]
    assert answers[0][:2] == answers[1][:2]
    # The request sent shows nothing about the target either way.
    known, unknown = (re.sub(r'(sent|received)-\d+|/\d+/|value="\w+"', "", text)
                      .split("</li>")[0] for text in (answers[0][2], answers[1][2]))
    assert known == unknown


def test_an_unknown_nic_handle_still_sends_the_holder_a_link(
        service, customer, django_capture_on_commit_callbacks):
    ask(service, customer, "zz999999-OVH", on_commit=django_capture_on_commit_callbacks)
    change = ContactChangeRequest.objects.get()
    assert change.state == State.VALIDATING and change.target is None
    assert link_for(customer)


def test_only_the_administrator_contact_may_ask(service, customer, other_customer):
    response = client_for(other_customer).get(reverse("contacts:change-new", args=[service.pk]))
    assert response.status_code == 404


def test_roles_held_by_different_accounts_are_moved_one_account_at_a_time(
        service, customer, other_customer, django_capture_on_commit_callbacks):
    Service.objects.filter(pk=service.pk).update(tech_contact=other_customer)
    response = ask(service, customer, "zz999999-OVH", roles=("tech", "billing"),
                   on_commit=django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert b"one account at a time" in response.content


def test_another_customer_gets_404_on_every_request_action(
        service, customer, other_customer, django_capture_on_commit_callbacks):
    ask(service, customer, "zz999999-OVH", on_commit=django_capture_on_commit_callbacks)
    change = ContactChangeRequest.objects.get()
    stranger = client_for(other_customer)  # not the target: the handle typed was another
    for name in ("accept", "refuse", "cancel", "resend"):
        assert stranger.post(reverse(f"contacts:{name}", args=[change.pk])).status_code == 404
    assert stranger.get(reverse("contacts:change-new", args=[service.pk])).status_code == 404
    change.refresh_from_db()
    assert change.state == State.VALIDATING


def test_the_page_needs_a_login(client):
    response = client.get(reverse("contacts:contacts"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_emails_reach_the_right_contacts(service, customer, other_customer, staff,
                                             django_capture_on_commit_callbacks):
    """After the billing role moved: the renewal invoice is the billing contact's and
    goes to them; the owner keeps the invoice issued before. After the tech role moved,
    the payment's service notice goes to the technical contact."""
    on_commit = django_capture_on_commit_callbacks
    ask(service, customer, other_customer.nic_handle, roles=("billing", "tech"),
        on_commit=on_commit)
    answer_by_link(customer, link_for(customer), "accept", on_commit)
    answer_by_link(other_customer, link_for(other_customer), "accept", on_commit)
    mail.outbox.clear()
    service.refresh_from_db()
    with on_commit(execute=True):
        [renewal] = renewals_issue_due(now=service.expires_at - timedelta(days=10))
    assert renewal.customer == other_customer
    assert [m.to for m in mail.outbox if "Renewal" in m.subject] == [[other_customer.email]]
    assert Invoice.objects.filter(customer=customer).count() == 1  # the order's, kept
    mail.outbox.clear()
    with on_commit(execute=True):
        invoice_mark_paid(invoice=renewal, staff_user=staff)
    assert [m.to for m in mail.outbox] == [[other_customer.email]]


def test_staff_abort_a_request_in_admin_and_both_are_told(
        service, customer, other_customer, agent_client, support_agent,
        django_capture_on_commit_callbacks):
    on_commit = django_capture_on_commit_callbacks
    ask(service, customer, other_customer.nic_handle, on_commit=on_commit)
    change = ContactChangeRequest.objects.get()
    assert agent_client.get(reverse("admin:billing_contactchangerequest_change",
                                    args=[change.pk])).status_code == 200
    mail.outbox.clear()
    with on_commit(execute=True):
        response = agent_client.post(reverse("admin:billing_contactchangerequest_decide",
                                             args=[change.pk, "abort"]),
                                     {"reason": "Customer called: sent by mistake"})
    assert response.status_code == 302
    change.refresh_from_db()
    assert (change.state, change.reason, change.closed_by) == (State.ABORTED, "staff",
                                                               support_agent)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([customer.email, other_customer.email])
    event = SecurityEvent.objects.get(user=other_customer, action=Action.CONTACT_CHANGE_CANCELLED)
    assert event.actor == support_agent
    assert event.detail["staff_reason"] == "Customer called: sent by mistake"


def test_the_admin_never_shows_the_link_hashes(service, customer, other_customer, agent_client,
                                               django_capture_on_commit_callbacks):
    ask(service, customer, other_customer.nic_handle,
        on_commit=django_capture_on_commit_callbacks)
    change = ContactChangeRequest.objects.get()
    page = agent_client.get(reverse("admin:billing_contactchangerequest_change", args=[change.pk]))
    assert change.holder_token_hash.encode() not in page.content


def test_the_links_are_masked_in_the_email_history(service, customer, other_customer,
                                                   django_capture_on_commit_callbacks):
    ask(service, customer, other_customer.nic_handle,
        on_commit=django_capture_on_commit_callbacks)
    from notifications.models import OutboundEmail

    stored = OutboundEmail.objects.get(kind="contact_change_request", user=other_customer)
    token = link_for(other_customer)
    assert token not in stored.body_text and token not in stored.body_html


@pytest.mark.django_db(transaction=True)
def test_two_accepts_at_once_apply_the_change_once(postgres, hosting, staff):
    owner = make_customer("owner@example.org")
    target = make_customer("target@example.org", first_name="Tara", last_name="Target")
    _o, invoice, service = place_order(owner, hosting, name="race.example",
                                       now=timezone.now() - timedelta(days=1))
    invoice_mark_paid(invoice=invoice, staff_user=staff)
    service.refresh_from_db()
    change = services.contact_change_request(service=service, requester=owner, roles=["admin"],
                                             target_nic_handle=target.nic_handle)
    services.contact_change_process(change_id=change.pk)

    def accept(n):
        with transaction.atomic():
            return services.contact_change_accept(change=change, user=(owner, target)[n % 2]).state

    results, errors = run_at_once(accept, 2)
    assert errors == []
    assert sorted(results) == sorted([State.VALIDATING, State.DONE])
    service.refresh_from_db()
    assert service.admin_contact == target
    assert SecurityEvent.objects.filter(action=Action.CONTACT_CHANGE_APPLIED).count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_expiry_runs_at_once_expire_a_request_once(postgres, hosting, staff):
    owner = make_customer("owner@example.org")
    _o, invoice, service = place_order(owner, hosting, name="race.example",
                                       now=timezone.now() - timedelta(days=1))
    invoice_mark_paid(invoice=invoice, staff_user=staff)
    service.refresh_from_db()
    change = services.contact_change_request(service=service, requester=owner, roles=["tech"],
                                             target_nic_handle="zz999999-OVH")
    services.contact_change_process(change_id=change.pk)
    later = timezone.now() + timedelta(days=8)
    results, errors = run_at_once(lambda n: services.contact_changes_expire_due(now=later), 4)
    assert errors == []
    assert sum(results) == 1
    assert SecurityEvent.objects.filter(action=Action.CONTACT_CHANGE_EXPIRED).count() == 1


def test_the_expiry_also_runs_by_hand(service, customer, django_capture_on_commit_callbacks):
    from io import StringIO

    from django.core.management import call_command

    ask(service, customer, "zz999999-OVH", on_commit=django_capture_on_commit_callbacks)
    out = StringIO()
    with time_machine.travel(timezone.now() + timedelta(days=8), tick=False):
        call_command("expire_contact_changes", stdout=out)
    assert "Expired 1 " in out.getvalue()
    assert ContactChangeRequest.objects.get().state == State.EXPIRED


def test_an_agent_cannot_abort_a_request_of_a_staff_account(
        service, customer, support_agent, agent_client, django_capture_on_commit_callbacks):
    ask(service, customer, support_agent.nic_handle,
        on_commit=django_capture_on_commit_callbacks)
    change = ContactChangeRequest.objects.get()
    response = agent_client.post(reverse("admin:billing_contactchangerequest_decide",
                                         args=[change.pk, "abort"]), {"reason": "no"},
                                 follow=True)
    assert b"Only a superuser" in response.content
    change.refresh_from_db()
    assert change.state == State.VALIDATING
