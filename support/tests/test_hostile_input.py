"""Whatever a customer posts to the support forms (a new request with its attachments, an
answer, close and reopen), whatever a visitor posts to the contact form, and whatever a
support URL carries (request numbers, attachment ids), the answer is a page (with a form
error when the input is refused) or a 4xx, never a 500. Property tests: see
portal/tests/hostile.py for what they send."""

import re
import uuid
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.tests.conftest import catalogue_product, place_order
from conftest import staff_log_in
from portal.tests.hostile import (
    assert_no_server_error,
    browser,
    encodings,
    example,
    form_data,
    hostile_files,
    logged_in,
    path_segment,
    post,
)
from portal.tests.test_hostile_requests import BODIES
from support.attachments import MAX_SIZE
from support.models import ContactMessage, SupportAttachment, SupportRequest
from support.tests.conftest import PDF, open_request, png_bytes, upload

pytestmark = pytest.mark.django_db

REQUEST = {"category": "technical", "subject": "My site is down", "body": "Since this morning.",
           "service": "", "invoice": ""}


@given(data=form_data(REQUEST), files=hostile_files())
def test_opening_a_request_never_fails_on_hostile_input_and_files(customer, support_agent, data,
                                                                  files):
    with example():
        service = place_order(customer, catalogue_product("web-hosting"))[2]
        if data.get("service") == "":
            data["service"] = service.pk
        client = logged_in(customer)
        response = post(client, "/account/support/new/", {**data, "attachments": files})
        assert_no_server_error(response, "support request")
        if response.status_code == 302:  # opened: its pages show what was stored
            support_request = SupportRequest.objects.get(customer=customer)
            assert client.get(response["Location"]).status_code == 200
            assert client.get("/account/support/").status_code == 200
            agent = staff_log_in(browser(), support_agent)
            for url in ("/admin/support/supportrequest/",
                        f"/admin/support/supportrequest/{support_request.pk}/change/"):
                assert agent.get(url).status_code == 200, url
            for attachment in SupportAttachment.objects.filter(
                    message__request=support_request):
                download = client.get(f"/account/support/attachments/{attachment.public_id}/")
                assert download.status_code == 200
                assert "\n" not in download["Content-Disposition"]


@given(files=hostile_files(max_files=3))
def test_hostile_files_are_refused_in_the_form_or_stored_under_a_safe_name(customer, files):
    with example():
        client = logged_in(customer)
        response = client.post("/account/support/new/", {**REQUEST, "attachments": files})
        assert_no_server_error(response, "support request")
        if response.status_code == 200:
            assert response.context["form"].errors["attachments"]
            assert not SupportRequest.objects.exists()
            return
        for attachment in SupportAttachment.objects.all():
            download = client.get(f"/account/support/attachments/{attachment.public_id}/")
            assert download.status_code == 200
            assert re.fullmatch(r'attachment; filename="[A-Za-z0-9_.-]{1,84}"',
                                download["Content-Disposition"]), download["Content-Disposition"]
            assert b"".join(download.streaming_content) == attachment.file.open("rb").read()


@given(data=form_data(REQUEST), encoding=encodings)
def test_the_request_form_never_fails_on_hostile_fields(customer, data, encoding):
    with example():
        assert_no_server_error(post(logged_in(customer), "/account/support/new/", data,
                                    encoding), "support request")


@given(data=form_data({"body": "It works again, thank you."}), files=hostile_files())
def test_answering_a_request_never_fails_on_hostile_input_and_files(customer, data, files):
    with example():
        support_request = open_request(customer)
        client = logged_in(customer)
        url = f"/account/support/{support_request.number}/"
        response = post(client, url, {**data, "attachments": files})
        assert_no_server_error(response, url)
        assert client.get(url).status_code == 200


def test_an_empty_or_oversized_attachment_gets_a_form_error(customer):
    client = logged_in(customer)
    empty = client.post("/account/support/new/", {**REQUEST, "attachments": [upload("a.pdf", b"")]})
    assert empty.status_code == 200 and "attachments" in empty.context["form"].errors
    big = client.post("/account/support/new/", {**REQUEST, "attachments": [
        upload("big.pdf", PDF + b"\x00" * MAX_SIZE)]})
    assert big.status_code == 200
    assert "larger than 5 MB" in big.content.decode()
    assert not SupportRequest.objects.exists()


def test_an_upload_past_the_request_limit_gets_the_413_page(customer, settings):
    settings.PORTAL_MAX_UPLOAD_SIZE = 64 * 1024  # the real 10 MB, made small to stay fast
    response = logged_in(customer).post("/account/support/new/", {
        **REQUEST, "attachments": [upload("a.pdf", PDF + b"x" * (64 * 1024))]})
    assert response.status_code == 413
    assert not SupportRequest.objects.exists()


def test_an_answer_in_a_wrong_content_type_or_encoding_gets_a_page_not_a_500(customer):
    url = f"/account/support/{open_request(customer).number}/"
    for content_type, body in BODIES:
        with example():
            response = logged_in(customer).generic("POST", url, body, content_type=content_type)
            assert_no_server_error(response, f"{url} {content_type} {body[:40]!r}")


SUPPORT_URLS = [("get", "/account/support/{}/"), ("post", "/account/support/{}/"),
                ("post", "/account/support/{}/close/"), ("post", "/account/support/{}/reopen/"),
                ("get", "/account/support/{}/close/"), ("get", "/account/support/attachments/{}/")]


@given(method_url=st.sampled_from(SUPPORT_URLS), value=path_segment)
def test_support_urls_never_fail_on_a_hostile_number_or_id(customer, method_url, value):
    method, pattern = method_url
    url = pattern.format(quote(value, safe=""))
    with example():
        response = getattr(logged_in(customer), method)(url, {"body": "Hello"})
        assert_no_server_error(response, url)
        assert response.status_code in (302, 404, 405), url


def test_a_request_number_with_a_nul_byte_is_a_404(customer):
    number = open_request(customer).number
    client = logged_in(customer)
    for url in (f"/account/support/{number}%00/", f"/account/support/{number}%00/close/",
                f"/account/support/{number}%00/reopen/"):
        response = client.post(url, {"body": "Hello"})
        assert response.status_code == 404, url


@given(value=st.one_of(st.uuids().map(str), path_segment), mine=st.booleans())
def test_another_customers_attachment_is_a_404_whatever_the_id(customer, other_customer, value,
                                                               mine):
    with example():
        open_request(customer, attachments=[upload("a.png", png_bytes())])
        theirs = open_request(other_customer, attachments=[upload("b.pdf", PDF)])
        attachment = SupportAttachment.objects.get(message__request=theirs)
        public_id = attachment.public_id if mine else value
        url = f"/account/support/attachments/{quote(str(public_id), safe='')}/"
        assert logged_in(customer).get(url).status_code == 404
        if mine:
            assert logged_in(other_customer).get(url).status_code == 200


@given(uppercase=st.booleans(), braces=st.booleans())
def test_an_attachment_id_in_another_spelling_never_fails(customer, uppercase, braces):
    with example():
        open_request(customer, attachments=[upload("a.png", png_bytes())])
        public_id = str(SupportAttachment.objects.get().public_id)
        public_id = public_id.upper() if uppercase else public_id
        public_id = f"{{{public_id}}}" if braces else public_id
        response = logged_in(customer).get(f"/account/support/attachments/{public_id}/")
        assert response.status_code in (200, 404)


@given(data=form_data({"topic": "technical", "nic_handle": "dm429850-OVH",
                       "email": "daniel@example.org", "message": "My site is down."},
                      emails=("email",)), encoding=encodings)
def test_the_contact_form_never_fails_on_hostile_input(support_agent, data, encoding):
    with example():
        client = browser()
        response = post(client, "/contact/", data, encoding)
        assert_no_server_error(response, "contact")
        if response.status_code == 302:
            assert_no_server_error(client.get(response["Location"]), response["Location"])
            agent = staff_log_in(browser(), support_agent)
            for contact in ContactMessage.objects.all():  # the agent reads it, and its account
                for url in ("/admin/support/contactmessage/",
                            f"/admin/support/contactmessage/{contact.pk}/change/"):
                    assert agent.get(url).status_code == 200, url


def test_staff_downloading_a_missing_attachment_id_get_a_404(support_agent):
    client = staff_log_in(browser(), support_agent)
    response = client.get(f"/account/support/attachments/{uuid.uuid4()}/")
    assert response.status_code == 404
