"""Whatever is posted to the second factor's forms (the removals with their security-key
answer, the login's second step, "Confirm it's you", a key's registration), the answer
is a page or a 4xx, never a 500, and nothing is removed. Property tests: see
portal/tests/hostile.py for what they send."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accounts.models import SecurityKey
from accounts.tests.soft_authenticator import SoftKey
from conftest import PASSWORD, give_second_factor, prove_second_factor
from portal.tests.hostile import assert_no_server_error, browser, encodings, example, form_data, post

CREDENTIAL = '{"id": "abc", "rawId": "abc", "type": "public-key", "response": {}}'


@pytest.mark.parametrize("path", ["/account/security/totp/remove/",
                                  "/account/security/second-factor/off/", "key"])
@given(data=form_data({"password": PASSWORD, "code": "123456", "credential": CREDENTIAL}),
       encoding=encodings, options=st.booleans())
def test_the_removals_never_fail_on_hostile_input(customer, path, data, encoding, options):
    with example():
        give_second_factor(customer)
        key = SoftKey().register(customer)
        if path == "key":
            path = f"/account/security/keys/{key.pk}/remove/"
        client = browser()
        client.force_login(customer)
        if options:
            client.post(f"{path}?key-options=1")
        assert_no_server_error(post(client, path, data, encoding), path)
        assert SecurityKey.objects.filter(pk=key.pk).exists()


@given(data=form_data({"code": "123456", "credential": CREDENTIAL, "remember": "on"}),
       encoding=encodings)
def test_the_second_step_never_fails_on_hostile_input(customer, data, encoding):
    with example():
        give_second_factor(customer)
        SoftKey().register(customer)
        client = browser()
        client.post("/login/", {"username": customer.nic_handle, "password": PASSWORD})
        client.post("/login/second-step/key-options/")
        assert_no_server_error(post(client, "/login/second-step/", data, encoding), "step")


@given(data=form_data({"password": PASSWORD, "code": "123456", "credential": CREDENTIAL,
                       "next": "/account/"}), encoding=encodings)
def test_reauth_never_fails_on_hostile_input(customer, data, encoding):
    with example():
        give_second_factor(customer)
        SoftKey().register(customer)
        client = browser()
        client.force_login(customer)
        assert_no_server_error(post(client, "/account/reauth/", data, encoding), "reauth")


@given(data=form_data({"name": "Laptop", "credential": CREDENTIAL}), encoding=encodings)
def test_key_registration_never_fails_on_hostile_input(customer, data, encoding):
    with example():
        client = browser()
        client.force_login(customer)
        prove_second_factor(client)
        client.post("/account/security/keys/options/")
        assert_no_server_error(post(client, "/account/security/keys/", data, encoding), "key")
