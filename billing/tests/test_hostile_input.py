"""Whatever a customer posts to the order form and its confirmation step, or puts in a
billing URL (ids, invoice numbers, page, year), the answer is a page or a 4xx, never a
500. Property tests: see portal/tests/hostile.py for what they send."""

from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.services.credit_notes import credit_note_issue
from billing.services.invoices import invoice_mark_paid
from billing.tests.conftest import place_order
from portal.tests.hostile import (
    assert_no_server_error,
    encodings,
    example,
    form_data,
    hostile_text,
    logged_in,
    post,
)
from portal.tests.hostile import path_segment as segment

pytestmark = pytest.mark.django_db


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
                "/billing/invoices/{}/pay/", "/billing/invoices/{}/pay/qr.svg",
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
                            "/billing/balance/", "/account/emails/", "/account/contacts/",
                            "/account/support/"]),
       params=st.dictionaries(st.sampled_from(["page", "year", "q", "\x00", "page[]"]),
                              st.one_of(segment, st.lists(segment, max_size=3)), max_size=3))
def test_the_lists_never_fail_on_hostile_query_strings(customer, url, params):
    with example():
        assert_no_server_error(logged_in(customer).get(url, params), url)


def test_the_payment_pages_never_fail_on_a_number_close_to_a_real_one(customer, other_customer,
                                                                    hosting, staff):
    """The customer's unpaid and paid invoices, their credit note and another customer's
    invoice, each number spelt otherwise: a page for their own, else a 404."""
    unpaid = place_order(customer, hosting)[1]
    paid = place_order(customer, hosting, name="paid.example")[1]
    invoice_mark_paid(invoice=paid, staff_user=staff)
    note = credit_note_issue(invoice=paid, staff_user=staff, now=paid.issued_at,
                             reason="Duplicate", line_ids=[paid.lines.get().pk])
    theirs = place_order(other_customer, hosting)[1]

    @given(number=st.sampled_from([unpaid.number, paid.number, note.number, theirs.number]),
           spelling=st.sampled_from([str, str.lower, lambda n: n + "\x00", lambda n: n + " ",
                                     lambda n: "\u200b" + n, lambda n: n.replace("-", "\u2010"),
                                     lambda n: n + "/../" + n, lambda n: n * 50]),
           suffix=st.sampled_from(["", "pay/", "pay/qr.svg", "pdf/"]),
           method=st.sampled_from(["get", "post", "head"]))
    def check(number, spelling, suffix, method):
        url = f"/billing/invoices/{quote(spelling(number), safe='/')}/{suffix}"
        with example():
            response = assert_no_server_error(getattr(logged_in(customer), method)(url), url)
            if number == theirs.number:
                assert response.status_code == 404, url

    check()


def test_only_an_unpaid_invoice_has_a_qr_code(customer, hosting, staff):
    unpaid = place_order(customer, hosting)[1]
    paid = place_order(customer, hosting, name="paid.example")[1]
    invoice_mark_paid(invoice=paid, staff_user=staff)
    client = logged_in(customer)
    response = client.get(f"/billing/invoices/{unpaid.number}/pay/qr.svg")
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    assert client.get(f"/billing/invoices/{paid.number}/pay/qr.svg").status_code == 404
    assert client.get(f"/billing/invoices/{paid.number}/pay/").status_code == 200
