import re

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import services
from accounts.models import RecoveryRequest, SecurityEvent, User
from conftest import PASSWORD, make_customer

pytestmark = pytest.mark.django_db




def customer_form(customer, **overrides):
    data = {
        "spare_email": customer.spare_email, "first_name": customer.first_name,
        "last_name": customer.last_name, "legal_form": customer.legal_form,
        "organisation": customer.organisation, "address": customer.address,
        "city": customer.city, "zip": customer.zip, "country": str(customer.country),
        "phone": customer.phone, "language": customer.language,
        "login_notifications": "on",
    }
    data.update(overrides)
    return data


def test_the_support_group_holds_only_what_agents_need():
    codenames = set(Group.objects.get(name="Support").permissions.values_list("codename", flat=True))
    assert "change_user" in codenames and "view_securityevent" in codenames
    assert not any(c.startswith(("delete_", "add_")) for c in codenames)
    assert "change_securityevent" not in codenames


@pytest.mark.parametrize("query", ["dm", "DANIEL@EXAMPLE.ORG", "Martín", "+3491234", "spare"])
def test_an_agent_finds_a_customer_by_nic_email_name_phone_or_spare_email(
    agent_client, customer, other_customer, query
):
    customer.spare_email = "spare.box@example.net"
    customer.save()
    if query == "dm":
        query = customer.nic_handle.upper()
    page = agent_client.get("/admin/accounts/user/", {"q": query}).content.decode()
    assert customer.nic_handle in page
    assert other_customer.nic_handle not in page


def test_the_nic_handle_and_the_password_are_out_of_reach(agent_client, customer):
    page = agent_client.get(f"/admin/accounts/user/{customer.pk}/change/").content.decode()
    assert customer.nic_handle in page
    assert 'name="nic_handle"' not in page
    assert 'name="password"' not in page and customer.password not in page
    assert 'name="email"' not in page
    assert 'name="is_superuser"' not in page


def test_an_agents_edit_is_logged_with_their_identity_and_the_customer_is_told(
    agent_client, support_agent, customer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(f"/admin/accounts/user/{customer.pk}/change/",
                                     customer_form(customer, city="Toledo"))
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.city == "Toledo"
    event = customer.security_events.get(action=SecurityEvent.Action.STAFF_ACTION)
    assert event.actor == support_agent and event.detail == {"what": "profile_edit", "fields": ["city"]}
    assert [m.to for m in mail.outbox] == [[customer.email]]
    assert "Fields changed: city." in mail.outbox[0].body and customer.nic_handle in mail.outbox[0].body


def test_an_agent_sends_a_reset_link_instead_of_setting_a_password(
    agent_client, support_agent, customer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        agent_client.post("/admin/accounts/user/", {"action": "send_password_reset",
                                                    "_selected_action": [customer.pk]})
    assert re.search(r"/reset/[^/\s]+/[^/\s]+/", mail.outbox[0].body)
    assert mail.outbox[0].to == [customer.email]
    assert customer.security_events.get(action="staff_action").actor == support_agent
    customer.refresh_from_db()
    assert customer.check_password(PASSWORD)


def test_an_agent_cannot_delete_a_customer(agent_client, customer):
    response = agent_client.post(f"/admin/accounts/user/{customer.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert User.objects.filter(pk=customer.pk).exists()


def test_an_agent_sees_email_changes_without_the_code_and_can_abort_one(
    agent_client, support_agent, customer, django_capture_on_commit_callbacks
):
    change = services.email_change_request(user=customer, new_email="moving@example.com")
    page = agent_client.get(f"/admin/accounts/emailchangerequest/{change.pk}/change/").content.decode()
    assert "moving@example.com" in page and "Wrong codes" in page
    assert change.code_hash not in page and "code_hash" not in page
    url = f"/admin/accounts/emailchangerequest/{change.pk}/decide/abort/"
    with django_capture_on_commit_callbacks(execute=True):
        agent_client.post(url, {"reason": "customer called: typo"})
    change.refresh_from_db()
    assert (change.state, change.reason, change.staff_note) == (
        "aborted", "support_aborted", "customer called: typo")
    event = customer.security_events.get(action=SecurityEvent.Action.EMAIL_CHANGE_ABORTED)
    assert event.actor == support_agent
    assert any(m.to == [customer.email] and "cancelled" in m.subject
               and "Reason: customer called: typo" in m.body for m in mail.outbox)


def test_an_agent_can_force_apply_an_email_change_with_a_reason(agent_client, support_agent, customer):
    change = services.email_change_request(user=customer, new_email="moving@example.com")
    agent_client.post(f"/admin/accounts/emailchangerequest/{change.pk}/decide/apply/",
                      {"reason": "identity checked by phone"})
    customer.refresh_from_db()
    assert customer.email == "moving@example.com"
    event = customer.security_events.get(action=SecurityEvent.Action.EMAIL_CHANGED)
    assert event.actor == support_agent and event.detail["how"] == "support_applied"
    change.refresh_from_db()
    assert (change.reason, change.staff_note) == ("support_applied", "identity checked by phone")


def test_the_security_log_is_read_only(agent_client, customer):
    event = SecurityEvent.objects.create(user=customer, action="login")
    page = agent_client.get(f"/admin/accounts/securityevent/{event.pk}/change/").content.decode()
    assert 'name="action"' not in page
    agent_client.post(f"/admin/accounts/securityevent/{event.pk}/change/", {"action": "signup"})
    event.refresh_from_db()
    assert event.action == "login"


def test_a_customer_cannot_reach_the_admin(customer_client):
    response = customer_client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert customer_client.get("/admin/accounts/user/").status_code == 302


def test_admin_login_is_throttled_like_customer_login(client, support_agent, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": support_agent.nic_handle, "password": "nope"})
    response = client.post("/admin/login/", {"username": support_agent.email, "password": PASSWORD})
    assert response.status_code == 429


def test_the_customer_list_costs_the_same_queries_for_10_or_1000_customers(agent_client):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert agent_client.get("/admin/accounts/user/").status_code == 200
        return len(ctx.captured_queries)

    User.objects.bulk_create([User(nic_handle=f"bk{n:06d}-OVH", email=f"bulk{n}@example.org",
                                   first_name="B", last_name="K") for n in range(10)])
    few = count()
    User.objects.bulk_create([User(nic_handle=f"bk{n:06d}-OVH", email=f"bulk{n}@example.org",
                                   first_name="B", last_name="K") for n in range(10, 1000)])
    assert count() == few


def test_a_staff_login_is_logged_and_notified_like_any_login(
    client, support_agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/login/?next=/admin/",
                               {"username": support_agent.nic_handle.upper(),
                                "password": PASSWORD, "next": "/admin/"},
                               REMOTE_ADDR="192.0.2.44")
    assert response.status_code == 302
    event = support_agent.security_events.get(action=SecurityEvent.Action.LOGIN)
    assert event.ip_address == "192.0.2.44"
    assert [m.to for m in mail.outbox] == [[support_agent.email]]
    assert "192.0.2.44" in mail.outbox[0].body


# --- staff accounts are managed by superusers only -----------------------------------------

REFUSAL = "Only a superuser may act on a staff account."


@pytest.fixture
def other_agent(db):
    """Another member of staff, not a superuser."""
    agent = make_customer("colleague@portal.example", first_name="Carla", last_name="Colleague")
    agent.is_staff = True
    agent.save(update_fields=["is_staff"])
    return agent


def messages_in(response):
    return [str(message) for message in response.context["messages"]]


def test_only_a_superuser_may_manage_a_staff_or_superuser_account(
    support_agent, other_agent, superuser, customer
):
    assert customer.may_be_managed_by(support_agent)
    assert not other_agent.may_be_managed_by(support_agent)
    assert not superuser.may_be_managed_by(support_agent)
    assert not support_agent.may_be_managed_by(support_agent)
    assert other_agent.may_be_managed_by(superuser) and customer.may_be_managed_by(superuser)


@pytest.mark.parametrize("target", ["superuser", "other_agent"])
def test_an_agent_cannot_send_a_reset_link_to_a_staff_account(
    agent_client, request, target, django_capture_on_commit_callbacks
):
    account = request.getfixturevalue(target)
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post("/admin/accounts/user/", {
            "action": "send_password_reset", "_selected_action": [account.pk]}, follow=True)
    assert response.status_code == 200
    assert mail.outbox == []
    assert not account.security_events.filter(action=SecurityEvent.Action.STAFF_ACTION).exists()
    assert any(account.nic_handle in m and REFUSAL in m for m in messages_in(response))


def test_an_agent_sending_reset_links_reaches_the_customers_and_names_the_refused_accounts(
    agent_client, customer, other_customer, superuser, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post("/admin/accounts/user/", {
            "action": "send_password_reset",
            "_selected_action": [customer.pk, superuser.pk, other_customer.pk]}, follow=True)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([customer.email, other_customer.email])
    shown = messages_in(response)
    assert "Reset link sent to 2 customers." in shown
    refused = [m for m in shown if superuser.nic_handle in m]
    assert len(refused) == 1 and REFUSAL in refused[0]
    assert customer.nic_handle not in refused[0]


def test_a_superuser_sends_a_reset_link_to_a_staff_account(
    superuser_client, superuser, support_agent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        superuser_client.post("/admin/accounts/user/", {"action": "send_password_reset",
                                                        "_selected_action": [support_agent.pk]})
    assert [m.to for m in mail.outbox] == [[support_agent.email]]
    assert support_agent.security_events.get(action="staff_action").actor == superuser


def staff_recovery_request(account):
    return RecoveryRequest.objects.create(user=account, old_email=account.email,
                                          new_email="taken-over@example.net",
                                          message="I lost my mailbox")


@pytest.mark.parametrize("decision", ["approve", "refuse"])
def test_an_agent_cannot_decide_a_staff_accounts_recovery_request(
    agent_client, superuser, decision, django_capture_on_commit_callbacks
):
    recovery = staff_recovery_request(superuser)
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(
            f"/admin/accounts/recoveryrequest/{recovery.pk}/decide/{decision}/",
            {"reason": "called us"}, follow=True)
    assert response.status_code == 200
    assert REFUSAL in messages_in(response)
    recovery.refresh_from_db()
    superuser.refresh_from_db()
    assert recovery.state == "pending" and recovery.decided_by is None
    assert superuser.email == "root@portal.example"
    assert mail.outbox == []


def test_a_superuser_approves_a_staff_accounts_recovery_request(superuser_client, support_agent):
    recovery = staff_recovery_request(support_agent)
    superuser_client.post(f"/admin/accounts/recoveryrequest/{recovery.pk}/decide/approve/",
                          {"reason": "identity checked"})
    support_agent.refresh_from_db()
    assert support_agent.email == "taken-over@example.net"


@pytest.mark.parametrize("decision", ["apply", "abort"])
def test_an_agent_cannot_apply_or_abort_a_staff_accounts_email_change(
    agent_client, other_agent, decision
):
    change = services.email_change_request(user=other_agent, new_email="moving@example.com")
    response = agent_client.post(
        f"/admin/accounts/emailchangerequest/{change.pk}/decide/{decision}/",
        {"reason": "asked by phone"}, follow=True)
    assert response.status_code == 200
    assert REFUSAL in messages_in(response)
    change.refresh_from_db()
    other_agent.refresh_from_db()
    assert change.state == "todo" and other_agent.email == "colleague@portal.example"


def test_the_services_refuse_an_agent_acting_on_a_staff_account(support_agent, superuser):
    change = services.email_change_request(user=superuser, new_email="moving@example.com")
    recovery = staff_recovery_request(superuser)
    calls = [
        lambda: services.password_reset_send_by_staff(user=superuser, staff_user=support_agent),
        lambda: services.recovery_request_approve(recovery=recovery, staff_user=support_agent,
                                                  reason="x"),
        lambda: services.recovery_request_refuse(recovery=recovery, staff_user=support_agent,
                                                 reason="x"),
        lambda: services.email_change_staff_apply(change=change, staff_user=support_agent,
                                                  reason="x"),
        lambda: services.email_change_staff_abort(change=change, staff_user=support_agent,
                                                  reason="x"),
        lambda: services.staff_account_changed(user=superuser, staff_user=support_agent,
                                               what="profile_edit", fields=["city"]),
    ]
    for call in calls:
        with pytest.raises(services.StaffActionRefused, match=REFUSAL):
            call()
    assert not superuser.security_events.filter(actor=support_agent).exists()


def test_an_agent_sees_a_staff_account_read_only(agent_client, other_agent):
    url = f"/admin/accounts/user/{other_agent.pk}/change/"
    page = agent_client.get(url).content.decode()
    assert other_agent.nic_handle in page
    assert 'name="city"' not in page and 'name="_save"' not in page
    response = agent_client.post(url, customer_form(other_agent, city="Toledo"))
    assert response.status_code == 403
    other_agent.refresh_from_db()
    assert other_agent.city == ""


def test_a_superuser_edits_a_staff_account(superuser_client, superuser, support_agent):
    url = f"/admin/accounts/user/{support_agent.pk}/change/"
    response = superuser_client.post(url, customer_form(
        support_agent, city="Toledo", is_active="on", is_staff="on",
        groups=list(support_agent.groups.values_list("pk", flat=True))))
    assert response.status_code == 302
    support_agent.refresh_from_db()
    assert support_agent.city == "Toledo" and support_agent.is_staff
    assert support_agent.security_events.get(action="staff_action").actor == superuser


def test_an_agent_cannot_grant_access_rights_to_a_customer(agent_client, customer):
    support = Group.objects.get(name="Support")
    response = agent_client.post(f"/admin/accounts/user/{customer.pk}/change/", customer_form(
        customer, is_superuser="on", is_staff="on", is_active="", groups=[support.pk],
        user_permissions=list(support.permissions.values_list("pk", flat=True))))
    assert response.status_code == 302
    customer.refresh_from_db()
    assert not customer.is_superuser and not customer.is_staff and customer.is_active
    assert not customer.groups.exists() and not customer.user_permissions.exists()
