"""Staff must use a second factor to reach /admin/ (portal.admin.PortalAdminSite)."""

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client

from accounts import services
from accounts.models import AuthenticatorApp
from conftest import PASSWORD, give_second_factor, prove_second_factor, totp_code

pytestmark = pytest.mark.django_db


def test_staff_without_a_second_factor_are_sent_to_enrol_first(client, support_agent):
    client.post("/login/", {"username": support_agent.nic_handle, "password": PASSWORD})
    response = client.get("/admin/accounts/user/", follow=True)
    assert response.redirect_chain[-1][0] == "/account/security/totp/"
    assert "Support staff must use two-step verification" in response.content.decode()


def test_staff_enrol_then_reach_the_admin(client, support_agent):
    client.post("/admin/login/", {"username": support_agent.nic_handle, "password": PASSWORD})
    assert client.get("/admin/")["Location"] == "/account/security/totp/"
    client.get("/account/security/totp/")
    device = AuthenticatorApp.objects.get(user=support_agent, confirmed=False)
    client.post("/account/security/totp/", {"code": totp_code(device)})
    assert client.get("/admin/").status_code == 200


def test_staff_log_in_to_the_admin_with_their_second_factor(client, support_agent):
    device = give_second_factor(support_agent)
    response = client.post("/admin/login/", {"username": support_agent.nic_handle,
                                             "password": PASSWORD})
    assert response["Location"] == "/login/second-step/"
    assert SESSION_KEY not in client.session
    response = client.post("/login/second-step/", {"code": totp_code(device)})
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_staff_session_that_never_proved_the_factor_confirms_it_first(client, support_agent):
    device = give_second_factor(support_agent)
    client.force_login(support_agent)
    response = client.get("/admin/accounts/user/")
    assert response["Location"] == "/account/reauth/?next=%2Fadmin%2Faccounts%2Fuser%2F"
    response = client.post("/account/reauth/", {"password": PASSWORD, "code": "000000",
                                                "next": "/admin/accounts/user/"})
    assert "This code is not valid" in response.content.decode()
    response = client.post("/account/reauth/", {"password": PASSWORD, "code": totp_code(device),
                                                "next": "/admin/accounts/user/"})
    assert response["Location"] == "/admin/accounts/user/"
    assert client.get("/admin/accounts/user/").status_code == 200


def test_staff_who_turn_their_factor_off_lose_the_admin(agent_client, support_agent):
    device = AuthenticatorApp.objects.get(user=support_agent)
    agent_client.post("/account/security/second-factor/off/",
                      {"password": PASSWORD, "code": totp_code(device)})
    assert not services.second_factor_enabled(user=support_agent)
    assert agent_client.get("/admin/")["Location"] == "/account/security/totp/"


def test_staff_can_still_log_out_of_the_admin(client, support_agent):
    client.force_login(support_agent)
    assert client.post("/admin/logout/")["Location"] == "/login/"
    assert SESSION_KEY not in client.session


def test_a_customer_already_logged_in_sees_the_admin_login_form_not_a_loop(customer_client):
    assert customer_client.get("/admin/login/?next=/admin/").status_code == 200
