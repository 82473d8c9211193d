import pytest
from django.test import RequestFactory

from portal.requestinfo import client_ip, user_agent


@pytest.mark.parametrize("forwarded", ["\x00", "not-an-address", "1.2.3.4\x00", "<script>", "x" * 5000])
def test_a_forwarded_address_that_is_no_ip_address_falls_back_to_the_peer(settings, forwarded):
    """Behind a proxy, a forged last hop must not reach the log's IP columns (PostgreSQL
    refuses NUL and anything not an address: a 500 on every login)."""
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR="10.0.0.1")
    assert client_ip(request) == "10.0.0.1"


def test_the_last_forwarded_hop_is_the_client_behind_a_proxy(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="203.0.113.9, 2001:db8::1",
                                   REMOTE_ADDR="10.0.0.1")
    assert client_ip(request) == "2001:db8::1"


def test_the_user_agent_is_stored_without_control_characters():
    request = RequestFactory().get("/", HTTP_USER_AGENT="Mozilla\x00/5.0\r\n" + "x" * 400)
    assert user_agent(request) == ("Mozilla/5.0" + "x" * 400)[:300]


@pytest.mark.django_db
@pytest.mark.parametrize("header", ["HTTP_X_FORWARDED_FOR", "HTTP_USER_AGENT", "HTTP_ACCEPT"])
def test_a_login_with_a_nul_in_its_headers_logs_in(client, customer, settings, header):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    response = client.post("/login/", {"username": customer.email, "password": "correct-horse-battery-42"},
                           **{header: "\x00"})
    assert response.status_code == 302


@pytest.mark.django_db
def test_a_failed_login_with_a_nul_in_its_headers_gets_the_form_error(client, customer):
    """axes logs the failure with the User-Agent and Accept headers."""
    response = client.post("/login/", {"username": customer.email, "password": "wrong"},
                           HTTP_USER_AGENT="x\x00y", HTTP_ACCEPT="text/html\x00")
    assert response.status_code == 200
    assert "do not match" in response.content.decode()
