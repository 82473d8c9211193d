"""Whatever a customer posts to the contacts pages (the change form, the answers to a
request, cancel and resend) or puts in their URLs (service and request ids, the token of
an emailed link), the answer is a page or a 4xx, never a 500, and another customer's
request stays out of reach. Property tests: see portal/tests/hostile.py for what they
send."""

import hashlib
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.models import ContactChangeRequest
from billing.services import contacts as services
from billing.services.invoices import invoice_mark_paid
from conftest import make_customer, staff_log_in
from portal.tests.hostile import (
    assert_no_server_error,
    browser,
    encodings,
    example,
    form_data,
    hostile_text,
    logged_in,
    path_segment,
    post,
)

from .conftest import place_order

pytestmark = pytest.mark.django_db

TOKEN = "a-token-as-the-email-carries-it"


@pytest.fixture
def service(customer, hosting, staff):
    _order, invoice, service = place_order(customer, hosting, name="shop.example")
    invoice_mark_paid(invoice=invoice, staff_user=staff)
    service.refresh_from_db()
    return service


def pending_change(service, requester, target):
    """A request both accounts must answer, with TOKEN as the holder's and the new
    contact's link."""
    change = services.contact_change_request(service=service, requester=requester,
                                             roles=["tech"], target_nic_handle=target.nic_handle)
    services.contact_change_process(change_id=change.pk)
    digest = hashlib.sha256(TOKEN.encode()).hexdigest()
    ContactChangeRequest.objects.filter(pk=change.pk).update(holder_token_hash=digest,
                                                             target_token_hash=digest)
    return ContactChangeRequest.objects.get(pk=change.pk)


def test_the_change_form_never_fails_on_hostile_input(customer, other_customer, service):
    @given(data=form_data({"roles": ["tech", "billing"], "nic_handle": other_customer.nic_handle}),
           encoding=encodings)
    def check(data, encoding):
        with example():
            client = logged_in(customer)
            url = f"/account/contacts/services/{service.pk}/change/"
            response = assert_no_server_error(post(client, url, data, encoding), url)
            if response.status_code == 302:  # recorded: the pages that show it still work
                assert client.get("/account/contacts/").status_code == 200
                assert client.get(url).status_code == 200

    check()


def test_answering_a_request_never_fails_on_hostile_input(customer, other_customer, service):
    @given(who=st.sampled_from(["holder", "target", "stranger"]),
           action=st.sampled_from(["accept", "refuse", "cancel", "resend", "answer"]),
           data=form_data({"decision": "accept"}), encoding=encodings)
    def check(who, action, data, encoding):
        with example():
            change = pending_change(service, customer, other_customer)
            user = {"holder": customer, "target": other_customer,
                    "stranger": make_customer("stranger@example.com")}[who]
            url = (f"/account/contacts/answer/{TOKEN}/" if action == "answer"
                   else f"/account/contacts/requests/{change.pk}/{action}/")
            response = assert_no_server_error(post(logged_in(user), url, data, encoding), url)
            if who == "stranger":
                assert response.status_code == 404, url
                change.refresh_from_db()
                assert change.state == ContactChangeRequest.State.VALIDATING
            assert logged_in(user).get("/account/contacts/").status_code == 200

    check()


CONTACT_URLS = [("get", "services/{}/change/"), ("post", "services/{}/change/"),
                ("post", "requests/{}/accept/"), ("post", "requests/{}/refuse/"),
                ("post", "requests/{}/cancel/"), ("post", "requests/{}/resend/"),
                ("get", "requests/{}/accept/"), ("get", "answer/{}/"), ("post", "answer/{}/")]


@given(method_url=st.sampled_from(CONTACT_URLS), value=path_segment,
       decision=st.one_of(st.sampled_from(["accept", "refuse"]), hostile_text))
def test_contact_urls_never_fail_on_a_hostile_id_or_token(customer, method_url, value, decision):
    method, pattern = method_url
    url = "/account/contacts/" + pattern.format(quote(value, safe=""))
    with example():
        response = getattr(logged_in(customer), method)(url, {"decision": decision})
        assert_no_server_error(response, url)
        assert response.status_code in (404, 405), url


@given(token=st.one_of(path_segment, st.just(TOKEN + "\x00"), st.just(TOKEN.upper()),
                       st.just(TOKEN + " "), st.just(TOKEN * 500)),
       method=st.sampled_from(["get", "post"]))
def test_a_forged_answer_token_is_a_404_page(customer, other_customer, service, token, method):
    with example():
        pending_change(service, customer, other_customer)
        url = f"/account/contacts/answer/{quote(token, safe='')}/"
        response = getattr(logged_in(other_customer), method)(url, {"decision": "accept"})
        assert response.status_code == 404, url
        assert ContactChangeRequest.objects.get().state == ContactChangeRequest.State.VALIDATING



def test_an_agent_aborting_a_request_never_fails_on_hostile_input(customer, other_customer,
                                                                  service, support_agent):
    @given(data=form_data({"reason": "The customer asked us on the phone."}),
           encoding=encodings)
    def check(data, encoding):
        with example():
            change = pending_change(service, customer, other_customer)
            url = f"/admin/billing/contactchangerequest/{change.pk}/decide/abort/"
            client = staff_log_in(browser(), support_agent)
            assert_no_server_error(client.get(url), url)
            assert_no_server_error(post(client, url, data, encoding), url)
            change.refresh_from_db()
            if change.state != ContactChangeRequest.State.VALIDATING:  # aborted
                for account in (customer, other_customer):
                    assert logged_in(account).get("/account/contacts/").status_code == 200
            assert client.get(f"/admin/billing/contactchangerequest/{change.pk}/change/"
                              ).status_code == 200

    check()
