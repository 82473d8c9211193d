"""Whatever a visitor or a customer posts to the account forms, or puts in a link, the
answer is a page (with a form error when the input is refused) or a 4xx, never a 500.
Property tests: see portal/tests/hostile.py for what they send."""

from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from hypothesis import given
from hypothesis import strategies as st

from accounts import services
from conftest import PASSWORD, prove_password, signup_data
from portal.tests.hostile import (
    assert_no_server_error,
    browser,
    encodings,
    example,
    form_data,
    hostile_text,
    post,
)

NEW_PASSWORD = "another-horse-battery-43"


@given(data=form_data(signup_data(), emails=("email", "spare_email")), encoding=encodings)
def test_signup_never_fails_on_hostile_input(db, data, encoding):
    with example():
        assert_no_server_error(post(browser(), "/signup/", data, encoding), "signup")


@given(data=form_data({"username": "daniel@example.org", "password": PASSWORD},
                      emails=("username",)), encoding=encodings)
def test_login_never_fails_on_hostile_input(customer, data, encoding):
    with example():
        assert_no_server_error(post(browser(), "/login/", data, encoding), "login")


@given(data=form_data({"login": "daniel@example.org"}, emails=("login",)), encoding=encodings)
def test_password_reset_request_never_fails_on_hostile_input(customer, data, encoding):
    with example():
        assert_no_server_error(post(browser(), "/password-reset/", data, encoding), "reset")


@given(data=form_data({"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}),
       encoding=encodings)
def test_setting_a_password_from_a_valid_link_never_fails_on_hostile_input(customer, data,
                                                                           encoding):
    uid = urlsafe_base64_encode(force_bytes(customer.pk))
    with example():
        client = browser()
        token = default_token_generator.make_token(customer)
        form_url = client.get(f"/reset/{uid}/{token}/")["Location"]
        assert_no_server_error(post(client, form_url, data, encoding), "set password")


@given(data=form_data({"nic_handle": "dm429850-OVH", "new_email": "new@example.net",
                       "new_email2": "new@example.net", "message": "I lost my mailbox."},
                      emails=("new_email", "new_email2")), encoding=encodings)
def test_account_recovery_never_fails_on_hostile_input(db, data, encoding):
    with example():
        assert_no_server_error(post(browser(), "/account-recovery/", data, encoding), "recovery")


PROFILE = {"first_name": "Daniel", "last_name": "Martín", "legal_form": "individual",
           "organisation": "", "address": "1 Calle Mayor", "zip": "28013", "city": "Madrid",
           "country": "ES", "phone": "+34912345678", "spare_email": "spare@example.net",
           "language": "es", "login_notifications": "on"}


@given(data=form_data(PROFILE, emails=("spare_email",)), encoding=encodings)
def test_profile_edit_never_fails_on_hostile_input(customer, data, encoding):
    with example():
        client = browser()
        client.force_login(customer)
        prove_password(client)
        response = post(client, "/account/profile/edit/", data, encoding)
        assert_no_server_error(response, "profile edit")
        if response.status_code == 302:  # stored: every page that shows it still works
            for url in ("/account/", "/account/profile/", "/account/profile/edit/"):
                assert client.get(url).status_code == 200


@given(data=form_data({"new_email": "new@example.net", "new_email2": "new@example.net",
                       "password": PASSWORD}, emails=("new_email", "new_email2")),
       encoding=encodings)
def test_email_change_never_fails_on_hostile_input(customer, data, encoding):
    with example():
        client = browser()
        client.force_login(customer)
        prove_password(client)
        response = post(client, "/account/email/", data, encoding)
        assert_no_server_error(response, "email change")
        assert client.get("/account/email/").status_code == 200


@given(data=form_data({"code": "ABCD2345"}), encoding=encodings)
def test_code_entry_never_fails_on_hostile_input(customer, data, encoding):
    with example():
        services.email_change_request(user=customer, new_email="new@example.net")
        client = browser()
        client.force_login(customer)
        prove_password(client)
        assert_no_server_error(post(client, "/account/email/verify/", data, encoding), "code")


@given(data=form_data({"old_password": PASSWORD, "new_password1": NEW_PASSWORD,
                       "new_password2": NEW_PASSWORD}), encoding=encodings)
def test_password_change_never_fails_on_hostile_input(customer, data, encoding):
    with example():
        client = browser()
        client.force_login(customer)
        prove_password(client)
        assert_no_server_error(post(client, "/account/security/", data, encoding), "password")


TOKEN_URLS = ["/signup/confirm/{}/", "/account-recovery/cancel/{}/", "/account/email/refuse/{}/",
              "/account/email/confirm/{}/", "/reset/{}/{}/", "/reset/MQ/{}/"]

# What a path segment may carry once percent-encoded: anything but "/" (a new segment).
path_text = hostile_text.map(lambda text: text.replace("/", ""))


@given(pattern=st.sampled_from(TOKEN_URLS), token=path_text, method=st.sampled_from(["get", "post"]))
def test_links_with_a_forged_token_never_fail(customer, pattern, token, method):
    from urllib.parse import quote

    url = pattern.format(quote(token, safe=""), quote(token[::-1], safe=""))
    with example():
        assert_no_server_error(getattr(browser(), method)(url), url)


@given(page=hostile_text)
def test_the_security_log_pages_never_fail_on_a_hostile_page_number(customer, page):
    with example():
        client = browser()
        client.force_login(customer)
        prove_password(client)
        assert_no_server_error(client.get("/account/security/", {"page": page}), "page")
