"""Whatever a customer posts to the order form and its confirmation step, or puts in a
billing URL (ids, invoice numbers, page, year), the answer is a page or a 4xx, never a
500. Property tests: see portal/tests/hostile.py for what they send."""

from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.tests.conftest import place_order
from portal.tests.hostile import (
    assert_no_server_error,
    browser,
    encodings,
    example,
    form_data,
    hostile_text,
    post,
)

pytestmark = pytest.mark.django_db

segment = st.one_of(hostile_text.map(lambda text: text.replace("/", "")),
                    st.integers(min_value=-(2**70), max_value=2**70).map(str))


def logged_in(customer):
    client = browser()
    client.force_login(customer)
    return client


@given(data=form_data({"product": "web-hosting", "period": "year", "service_name": "example.com"}),
       encoding=encodings)
def test_choosing_an_order_never_fails_on_hostile_input(customer, hosting, domain, data, encoding):
    if data.get("product") in ("web-hosting", "domain-com"):
        data["product"] = (hosting if data["product"] == "web-hosting" else domain).pk
    with example():
        response = post(logged_in(customer), "/billing/orders/new/", data, encoding)
        assert_no_server_error(response, "order")


@given(data=form_data({"service_name": "example.com", "token": "6f1c2a9e-6d4b-4a53-9a7e-0c1b2d3e4f50",
                       "quoted_total": "15.59", "confirm": "1"},
                      fixed=("confirm",)), encoding=encodings)
def test_confirming_an_order_never_fails_on_hostile_input(customer, domain, data, encoding):
    data.update(product=domain.pk, period="year")
    with example():
        client = logged_in(customer)
        response = assert_no_server_error(post(client, "/billing/orders/new/", data, encoding))
        if response.status_code == 302:  # placed: its pages show what was stored
            assert client.get(response["Location"]).status_code == 200
            assert client.get("/billing/orders/").status_code == 200
            assert client.get("/billing/invoices/").status_code == 200


BILLING_URLS = ["/billing/orders/{}/", "/billing/invoices/{}/", "/billing/invoices/{}/pdf/",
                "/account/emails/{}/", "/account/emails/{}/html/"]


@given(pattern=st.sampled_from(BILLING_URLS), value=segment)
def test_billing_and_email_urls_never_fail_on_a_hostile_id(customer, pattern, value):
    url = pattern.format(quote(value, safe=""))
    with example():
        assert_no_server_error(logged_in(customer).get(url), url)


@given(value=segment, auto_renew=hostile_text)
def test_the_auto_renew_switch_never_fails_on_hostile_input(customer, value, auto_renew):
    url = f"/billing/services/{quote(value, safe='')}/auto-renew/"
    with example():
        assert_no_server_error(logged_in(customer).post(url, {"auto_renew": auto_renew}), url)


def test_the_auto_renew_switch_of_a_service_never_fails_on_hostile_input(customer, hosting):
    service = place_order(customer, hosting)[2]

    @given(data=form_data({"auto_renew": "on"}), encoding=encodings)
    def check(data, encoding):
        with example():
            response = post(logged_in(customer), f"/billing/services/{service.pk}/auto-renew/",
                            data, encoding)
            assert_no_server_error(response, "auto-renew")

    check()


@given(url=st.sampled_from(["/billing/services/", "/billing/orders/", "/billing/invoices/",
                            "/account/emails/"]),
       params=st.dictionaries(st.sampled_from(["page", "year", "q", "\x00", "page[]"]),
                              st.one_of(segment, st.lists(segment, max_size=3)), max_size=3))
def test_the_lists_never_fail_on_hostile_query_strings(customer, url, params):
    with example():
        assert_no_server_error(logged_in(customer).get(url, params), url)
