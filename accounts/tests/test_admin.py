import re

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import services
from accounts.models import SecurityEvent, User
from conftest import PASSWORD

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
    assert (change.state, change.reason) == ("aborted", "support: customer called: typo")
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
    assert event.actor == support_agent and event.detail["how"] == "support: identity checked by phone"


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
