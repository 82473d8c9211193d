"""Requests no browser sends: hostile headers, bodies in the wrong content type or
encoding, broken multipart, too many fields, too large bodies. The answer is a page or a
4xx, never a 500."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import PASSWORD, signup_data
from portal.tests.hostile import assert_no_server_error, browser, example, hostile_text

pytestmark = pytest.mark.django_db

FORMS = ["/signup/", "/login/", "/password-reset/", "/account-recovery/", "/admin/login/",
         "/contact/"]
CUSTOMER_FORMS = ["/account/profile/edit/", "/account/email/", "/account/email/verify/",
                  "/account/security/", "/billing/orders/new/", "/account/support/new/"]

header_text = hostile_text.map(lambda text: text.encode("utf-8", "replace").decode("latin-1"))


@given(url=st.sampled_from(FORMS), user_agent=header_text, forwarded=header_text,
       language=header_text, referer=header_text)
def test_hostile_headers_never_fail(customer, settings, url, user_agent, forwarded, language,
                                     referer):
    # Behind a proxy: X-Forwarded-For is read (portal.requestinfo.client_ip).
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    with example():
        response = browser().post(
            url, {"username": customer.email, "password": PASSWORD, "login": customer.email},
            HTTP_USER_AGENT=user_agent, HTTP_X_FORWARDED_FOR=forwarded,
            HTTP_ACCEPT_LANGUAGE=language, HTTP_REFERER=referer)
        assert_no_server_error(response, url)


BODIES = [
    ("application/json", b'{"username": "daniel@example.org", "password": "x"}'),
    ("application/json", b"\x00\xff\xfe"),
    ("text/plain", b"username=daniel%40example.org&password=x"),
    ("application/x-www-form-urlencoded", b"username=%FF%FE%00&password=%C3%28"),
    ("application/x-www-form-urlencoded", b"\xff\xfe\x00=\xc3\x28&&&===&%%%"),
    ("application/x-www-form-urlencoded; charset=utf-16", b"u\x00=\x00x\x00"),
    ("application/x-www-form-urlencoded; charset=nonsense", b"username=x"),
    ("multipart/form-data", b"username=x"),
    ("multipart/form-data; boundary=", b"--\r\n"),
    ("multipart/form-data; boundary=BOUND", b"--BOUND\r\nContent-Disposition: form-data\r\n\r\nx"),
    ("multipart/form-data; boundary=BOUND",
     b'--BOUND\r\nContent-Disposition: form-data; name="username"\r\n\r\n\xff\xfe\x00\r\n--BOUND--'),
    ("multipart/form-data; boundary=BOUND",
     b'--BOUND\r\nContent-Disposition: form-data; name="f"; filename="../../x\x00.pdf"\r\n'
     b"Content-Type: application/pdf\r\n\r\n%PDF\r\n--BOUND--"),
    ("multipart/form-data; boundary=" + "B" * 5000, b"--"),
    ("application/xml", b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'a'>]><x>&a;</x>"),
    ("", b"\x00" * 100),
]


@pytest.mark.parametrize("url", [*FORMS, *CUSTOMER_FORMS])
def test_bodies_in_a_wrong_content_type_or_encoding_never_fail(customer, url):
    for content_type, body in BODIES:
        with example():
            client = browser()
            if url in CUSTOMER_FORMS:
                client.force_login(customer)
            # generic(): the body goes as given, not re-encoded in the charset it names.
            response = client.generic("POST", url, body, content_type=content_type)
            assert_no_server_error(response, f"{url} {content_type} {body[:40]!r}")


@pytest.mark.parametrize("url", ["/signup/", "/login/", "/account/profile/edit/", "/contact/",
                                 "/account/support/new/"])
def test_a_body_larger_than_allowed_gets_a_clear_413_page(customer, settings, url):
    client = browser()
    if url.startswith("/account/"):
        client.force_login(customer)
    body = {**signup_data(), "address": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)}
    response = client.post(url, body)
    assert response.status_code == 413
    assert "too large" in response.content.decode()


def test_a_urlencoded_body_larger_than_allowed_gets_a_413(customer, settings):
    body = "address=" + "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = browser().post("/signup/", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413


def test_too_many_fields_get_a_clear_400_page(customer, settings):
    fields = {f"field{n}": "x" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    response = browser().post("/signup/", fields)
    assert response.status_code == 400
    assert "too many fields" in response.content.decode()


def test_a_huge_uploaded_file_gets_a_413_or_a_form_error(customer, settings, tmp_path):
    """No form takes a file: a file part is ignored, and one past the limits refused."""
    path = tmp_path / "big.bin"
    path.write_bytes(b"\x00" * (settings.FILE_UPLOAD_MAX_MEMORY_SIZE + 1))
    client = browser()
    client.force_login(customer)
    with path.open("rb") as handle:
        response = client.post("/account/profile/edit/", {"first_name": "Daniel", "file": handle})
    assert response.status_code in (200, 413)


def test_the_limits_are_set_deliberately(settings):
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 256 * 1024
    assert settings.DATA_UPLOAD_MAX_NUMBER_FIELDS == 1000
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE == 256 * 1024
    assert settings.PORTAL_MAX_UPLOAD_SIZE == 10 * 1024 * 1024
