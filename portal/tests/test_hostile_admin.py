"""Whatever a support agent posts to the admin forms they use (a customer's page, the
decision reasons, the list actions), and whatever a list URL or an object id carries,
the admin answers a page or a 4xx, never a 500. Property tests: see
portal/tests/hostile.py for what they send."""

from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accounts import services
from accounts.models import RecoveryRequest
from conftest import staff_log_in
from portal.tests.hostile import (
    assert_no_server_error,
    browser,
    encodings,
    example,
    form_data,
    hostile_files,
    hostile_text,
    post,
)
from portal.tests.hostile import path_segment as segment
from support.models import CannedAnswer, ContactMessage, SupportMessage, SupportRequest
from support.services import contact_message_create
from support.tests.conftest import open_request

pytestmark = pytest.mark.django_db


def agent(support_agent):
    client = browser()
    staff_log_in(client, support_agent)
    return client


CUSTOMER_PAGE = {"spare_email": "spare@example.net", "first_name": "Daniel", "last_name": "Martín",
                 "legal_form": "individual", "organisation": "", "address": "1 Calle Mayor",
                 "city": "Madrid", "zip": "28013", "country": "ES", "phone": "+34912345678",
                 "language": "es", "login_notifications": "on"}


@given(data=form_data(CUSTOMER_PAGE, emails=("spare_email",)), encoding=encodings)
def test_the_customer_page_never_fails_on_hostile_input(customer, support_agent, data, encoding):
    url = f"/admin/accounts/user/{customer.pk}/change/"
    with example():
        client = agent(support_agent)
        response = assert_no_server_error(post(client, url, data, encoding), "customer page")
        if response.status_code == 302:  # saved: the pages that show it still work
            assert client.get(url).status_code == 200
            assert client.get("/admin/accounts/user/").status_code == 200


@given(decision=st.sampled_from(["emailchangerequest/{change}/decide/abort",
                                 "emailchangerequest/{change}/decide/apply",
                                 "recoveryrequest/{recovery}/decide/approve",
                                 "recoveryrequest/{recovery}/decide/refuse"]),
       data=form_data({"reason": "Checked with the customer on the phone."}), encoding=encodings)
def test_the_decision_reasons_never_fail_on_hostile_input(customer, support_agent, decision, data,
                                                          encoding):
    with example():
        change = services.email_change_request(user=customer, new_email="new@example.net")
        recovery = RecoveryRequest.objects.create(user=customer, old_email=customer.email,
                                                  new_email="taken-over@example.net",
                                                  message="I lost my mailbox")
        url = "/admin/accounts/" + decision.format(change=change.pk, recovery=recovery.pk) + "/"
        client = agent(support_agent)
        assert_no_server_error(client.get(url), url)
        assert_no_server_error(post(client, url, data, encoding), url)


@given(list_url=st.sampled_from(["/admin/accounts/user/", "/admin/notifications/outboundemail/",
                                 "/admin/billing/invoice/"]),
       action=st.one_of(st.sampled_from(["send_password_reset", "resend", "mark_paid",
                                         "delete_selected"]), hostile_text),
       selected=st.lists(st.one_of(segment, st.just("{customer}")), max_size=4),
       extra=st.dictionaries(st.sampled_from(["select_across", "index", "post", "\x00"]),
                             hostile_text, max_size=2))
def test_the_list_actions_never_fail_on_hostile_input(customer, support_agent, list_url, action,
                                                      selected, extra):
    with example():
        services.email_change_request(user=customer, new_email="new@example.net")
        data = {"action": action, **extra,
                "_selected_action": [value.replace("{customer}", str(customer.pk))
                                     for value in selected]}
        assert_no_server_error(agent(support_agent).post(list_url, data), list_url)


LIST_URLS = ["/admin/accounts/user/", "/admin/accounts/securityevent/",
             "/admin/accounts/recoveryrequest/", "/admin/accounts/emailchangerequest/",
             "/admin/accounts/passwordresetattempt/", "/admin/notifications/outboundemail/",
             "/admin/billing/invoice/", "/admin/billing/service/", "/admin/billing/order/",
             "/admin/billing/product/", "/admin/axes/accessattempt/", "/admin/auth/group/",
             "/admin/billing/contactchangerequest/", "/admin/support/supportrequest/",
             "/admin/support/contactmessage/", "/admin/support/cannedanswer/"]

PARAMETERS = ["q", "o", "p", "e", "all", "_facets", "_popup", "_to_field", "is_active__exact",
              "state__exact", "status__exact", "kind__exact", "created_at__year",
              "created_at__month", "created_at__day", "issued_at__year", "expires_at__year",
              "date_joined__gte", "date_joined__lt", "paid_at__isempty", "year__exact",
              "password__startswith", "user__password", "\x00", "q[]",
              # The lists added with support, contacts and payments:
              "category__exact", "assignee__id__exact", "assignee__isnull", "handled_at__isempty",
              "last_message_at__gte", "method__exact", "outcome__exact", "review", "statement",
              "recorded_at__year", "imported_at__year", "imported_at__month", "booked_on__gte",
              "messages__body", "customer__nic_handle"]


@given(url=st.sampled_from(LIST_URLS),
       params=st.dictionaries(st.sampled_from(PARAMETERS),
                              st.one_of(segment, st.lists(segment, max_size=3)), max_size=4))
def test_the_admin_lists_never_fail_on_hostile_query_strings(customer, support_agent, url, params):
    with example():
        assert_no_server_error(agent(support_agent).get(url, params), f"{url} {params!r}")


@given(pattern=st.sampled_from(["/admin/accounts/user/{}/change/", "/admin/accounts/user/{}/history/",
                                "/admin/accounts/recoveryrequest/{}/change/",
                                "/admin/accounts/recoveryrequest/{}/decide/approve/",
                                "/admin/notifications/outboundemail/{}/change/",
                                "/admin/notifications/outboundemail/{}/html/",
                                "/admin/billing/invoice/{}/change/", "/admin/billing/order/{}/change/",
                                "/admin/billing/invoice/{}/credit-note/",
                                "/admin/billing/contactchangerequest/{}/change/",
                                "/admin/billing/contactchangerequest/{}/decide/abort/",
                                "/admin/support/supportrequest/{}/change/",
                                "/admin/support/contactmessage/{}/change/"]),
       value=segment)
def test_admin_object_urls_never_fail_on_a_hostile_id(support_agent, pattern, value):
    url = pattern.format(quote(value, safe=""))
    with example():
        assert_no_server_error(agent(support_agent).get(url), url)


SUPPORT_REPLY = {"assignee": "{agent}", "canned_answer": "{canned}", "body_kind": "reply",
                 "body": "Please restart your server.", "new_status": "", "_save": "Save"}


@given(data=form_data(SUPPORT_REPLY), files=hostile_files())
def test_the_support_request_page_never_fails_on_hostile_input(customer, support_agent, data,
                                                               files):
    with example():
        canned = CannedAnswer.objects.create(title="Restart", body="Restart it <b>now</b>.")
        support_request = open_request(customer)
        for name, value in data.items():
            if isinstance(value, str):
                data[name] = value.replace("{agent}", str(support_agent.pk)).replace(
                    "{canned}", str(canned.pk))
        url = f"/admin/support/supportrequest/{support_request.pk}/change/"
        client = agent(support_agent)
        response = assert_no_server_error(post(client, url, {**data, "attachments": files}), url)
        assert client.get(url).status_code == 200
        if response.status_code == 302 and SupportMessage.objects.filter(
                kind=SupportMessage.Kind.REPLY).exists():  # answered: the customer reads it
            customer_client = browser()
            customer_client.force_login(customer)
            page = customer_client.get(f"/account/support/{support_request.number}/")
            assert page.status_code == 200
            assert SupportRequest.objects.get().status in SupportRequest.Status.values


@given(data=form_data({"answer": "We refunded the duplicate.", "_save": "Save"}),
       encoding=encodings)
def test_the_contact_message_answer_never_fails_on_hostile_input(support_agent, data, encoding):
    with example():
        contact = contact_message_create(nic_handle="dm429850-OVH", email="me@example.org",
                                         category="billing", message="Charged twice.")
        url = f"/admin/support/contactmessage/{contact.pk}/change/"
        client = agent(support_agent)
        assert_no_server_error(post(client, url, data, encoding), url)
        assert client.get(url).status_code == 200
        assert ContactMessage.objects.filter(pk=contact.pk).exists()
