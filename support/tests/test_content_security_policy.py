"""The support pages send the policy and carry no inline script or style."""

import pytest

from portal.tests.test_content_security_policy import assert_protected
from support.tests.conftest import open_request

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/account/support/", "/account/support/new/"])
def test_customer_pages(customer_client, path):
    assert_protected(customer_client.get(path))


def test_a_request_page(customer_client, customer):
    assert_protected(customer_client.get(f"/account/support/{open_request(customer).number}/"))


@pytest.mark.parametrize("path", ["/contact/", "/contact/sent/"])
def test_public_pages(client, path):
    assert_protected(client.get(path))
