"""Sessions from before the session list (no UserSession row) are listed and can be
ended: the data migration accounts 0019 gives each unexpired logged-in session of the
database backend its row, a request of such a session creates it, and a login's own
response records its session."""

import importlib

import pytest
from django.apps import apps
from django.contrib.sessions.models import Session
from django.test import Client

from accounts.models import UserSession
from conftest import PASSWORD, prove_password

pytestmark = pytest.mark.django_db
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"


def session_from_before(user):
    """A logged-in client whose session has no row, as before the list existed."""
    client = Client(HTTP_USER_AGENT=FIREFOX, REMOTE_ADDR="198.51.100.4")
    client.force_login(user)
    UserSession.objects.filter(session_key=client.session.session_key).delete()
    return client


def migrate_sessions():
    migration = importlib.import_module("accounts.migrations.0019_user_sessions_for_existing_sessions")
    migration.user_sessions_create(apps, None)


def test_the_data_migration_lists_sessions_that_made_no_request_since(customer,
                                                                      customer_client):
    old = session_from_before(customer)
    key = old.session.session_key
    assert customer_client.get("/account/security/").content.decode().count('id="session-') == 1
    migrate_sessions()
    row = UserSession.objects.get(session_key=key)
    assert row.user == customer and row.user_agent == "" and row.ip_address is None
    page = customer_client.get("/account/security/").content.decode()
    assert page.count('id="session-') == 2
    assert f'id="session-{row.pk}"' in page and "Unknown browser" in page


def test_the_migration_skips_visitors_known_sessions_and_expired_ones(customer,
                                                                      customer_client):
    visitor = Client()
    visitor.get("/login/")
    visitor_session = visitor.session
    visitor_session["anything"] = 1
    visitor_session.save()
    before = set(UserSession.objects.values_list("session_key", flat=True))
    expired = session_from_before(customer)
    Session.objects.filter(session_key=expired.session.session_key).update(
        expire_date="2000-01-01T00:00:00Z")
    migrate_sessions()
    migrate_sessions()  # twice: nothing more
    assert set(UserSession.objects.values_list("session_key", flat=True)) == before


def test_ending_a_session_from_before_logs_that_client_out(customer, customer_client):
    old = session_from_before(customer)
    assert old.get("/account/").status_code == 200
    UserSession.objects.filter(session_key=old.session.session_key).delete()
    migrate_sessions()
    row = UserSession.objects.get(session_key=old.session.session_key)
    prove_password(customer_client)
    response = customer_client.post(f"/account/security/sessions/{row.pk}/end/")
    assert response["Location"] == "/account/security/"
    assert old.get("/account/")["Location"].startswith("/login/")
    assert customer_client.get("/account/").status_code == 200


def test_ending_all_others_reaches_a_session_from_before(customer, customer_client):
    old = session_from_before(customer)
    migrate_sessions()
    customer_client.post("/account/security/sessions/end-others/")
    assert old.get("/account/")["Location"].startswith("/login/")
    assert customer_client.get("/account/").status_code == 200


def test_a_session_from_before_gets_its_row_at_its_next_request(customer):
    old = session_from_before(customer)
    old.get("/account/")
    row = UserSession.objects.get(session_key=old.session.session_key)
    assert row.ip_address == "198.51.100.4" and "Firefox" in row.user_agent


def test_a_login_is_listed_from_its_own_response(customer):
    client = Client(HTTP_USER_AGENT=FIREFOX)
    response = client.post("/login/", {"username": customer.nic_handle, "password": PASSWORD})
    assert response["Location"] == "/account/"
    assert UserSession.objects.filter(user=customer,
                                      session_key=client.session.session_key).exists()
