import pytest
from django.contrib.auth import SESSION_KEY

from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def login(client, username, password=PASSWORD):
    return client.post("/login/", {"username": username, "password": password})


@pytest.mark.parametrize("transform", [str, str.upper, str.lower, str.swapcase])
def test_it_logs_in_with_the_nic_handle_in_any_case(client, customer, transform):
    response = login(client, transform(customer.nic_handle))
    assert response.status_code == 302
    assert response["Location"] == "/account/"
    assert client.session[SESSION_KEY] == str(customer.pk)


@pytest.mark.parametrize("address", ["daniel@example.org", "DANIEL@EXAMPLE.ORG", " Daniel@Example.org "])
def test_it_logs_in_with_the_email_in_any_case(client, customer, address):
    response = login(client, address)
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(customer.pk)


def test_a_wrong_password_gets_a_clear_message(client, customer):
    response = login(client, customer.nic_handle, "wrong-password")
    assert response.status_code == 200
    assert "do not match" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_an_unknown_account_gets_the_same_message_as_a_wrong_password(client, customer):
    unknown = login(client, "zz999999-OVH", "wrong-password").content.decode()
    wrong = login(client, customer.nic_handle, "wrong-password").content.decode()
    message = "The customer ID or email and the password do not match."
    assert message in unknown and message in wrong


def test_a_disabled_account_cannot_log_in(client, customer):
    customer.is_active = False
    customer.save()
    response = login(client, customer.nic_handle)
    assert response.status_code == 200
    assert SESSION_KEY not in client.session


def test_an_email_longer_than_a_nic_handle_is_accepted_in_the_login_field(client, db):
    from conftest import make_customer

    long_address = "a.very.long.mailbox.name.for.testing@subdomain.example.org"
    user = make_customer(long_address)
    response = login(client, long_address)
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(user.pk)


def test_the_login_page_links_to_password_recovery(client):
    page = client.get("/login/").content.decode()
    assert 'href="/password-reset/"' in page
    assert "Forgotten password?" in page
    assert 'name="username"' in page and 'name="password"' in page


def test_logout_is_post_only(customer_client):
    """Opening /logout/ asks first (a button posting the form); only the POST logs out."""
    page = customer_client.get("/logout/")
    assert page.status_code == 200
    assert SESSION_KEY in customer_client.session
    html = page.content.decode()
    assert "<h1" in html and 'id="logout-confirm"' in html and 'method="post"' in html
    response = customer_client.post("/logout/", follow=True)
    assert response.redirect_chain[-1][0] == "/login/"
    assert SESSION_KEY not in customer_client.session
    assert "You are logged out" in response.content.decode()


def test_the_next_parameter_brings_the_customer_back(client, customer):
    response = client.post("/login/?next=/signup/done/",
                           {"username": customer.nic_handle, "password": PASSWORD,
                            "next": "/signup/done/"})
    assert response["Location"] == "/signup/done/"


def test_a_foreign_next_url_is_ignored(client, customer):
    response = client.post("/login/", {"username": customer.nic_handle, "password": PASSWORD,
                                       "next": "https://evil.example/"})
    assert response["Location"] == "/account/"


@pytest.mark.parametrize("url", ["/login/", "/admin/login/"])
def test_a_login_longer_than_any_address_gets_a_form_error(client, customer, url):
    """Django's login form checks no length; axes would log the login in a column of 255
    characters, which PostgreSQL refuses (a 500)."""
    client.raise_request_exception = False
    response = client.post(url, {"username": "a" * 300 + "@example.org", "password": PASSWORD})
    assert response.status_code == 200
    assert "at most 254 characters" in response.content.decode()
