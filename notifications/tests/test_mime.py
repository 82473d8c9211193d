"""The outbox's messages go out byte for byte as Django would write them, for less CPU."""

import re
from email.policy import compat32

import pytest
from django.core.mail import EmailMultiAlternatives
from hypothesis import given
from hypothesis import strategies as st

from notifications import mime
from notifications.delivery import _message
from notifications.mime import SHORT_HEADERS_AS_IS, boundary_for
from notifications.services import email_queue

pytestmark = pytest.mark.django_db

FIXED_DATE = "Tue, 01 Dec 2026 06:00:00 -0000"


def as_django_writes_it(message, boundary):
    """The same message built by Django's own EmailMultiAlternatives, given `boundary`."""
    plain = EmailMultiAlternatives(
        subject=message.subject, body=message.body, from_email=message.from_email,
        to=message.to, headers={**message.extra_headers, "Date": FIXED_DATE},
        alternatives=message.alternatives)
    mime_message = plain.message()
    mime_message.set_boundary(boundary)
    return mime_message.as_bytes(linesep="\r\n")


@pytest.mark.parametrize("language", ["en", "es", "fr"])
@pytest.mark.parametrize("template, secrets", [
    ("password_changed", {}),
    ("password_reset", {"reset_url": "https://portal.example/reset/MQ/abc-123/"}),
])
def test_a_message_is_the_bytes_django_would_send(customer, language, template, secrets):
    customer.language = language
    customer.save()
    email = email_queue(template=template, to=customer.email, user=customer,
                        context={"valid_minutes": 60, "ip": "198.51.100.7", "how": "change"},
                        secrets=secrets)
    email.refresh_from_db()
    message = _message(email)
    message.extra_headers["Date"] = FIXED_DATE
    sent = message.message().as_bytes(linesep="\r\n")
    boundary = re.search(rb'boundary="([^"]+)"', sent).group(1).decode()

    assert sent == as_django_writes_it(message, boundary)
    assert sent.count(f"--{boundary}".encode()) == 3  # two parts and the closing line


def test_a_long_subject_in_spanish_is_folded_as_django_folds_it(customer):
    message = mime.OutboxMessage(
        subject="Confirmación del cambio de la dirección de correo electrónico de tu cuenta "
                "de cliente dm429850-OVH: introduce el código",
        body="Hola", from_email="Portal de clientes <no-reply@portal.example>",
        to=["daniel@example.org"],
        headers={"Date": FIXED_DATE, "Message-ID": "<outbox-1@portal.example>"},
        alternatives=[("<p>Hola</p>", "text/html")])
    sent = message.message().as_bytes(linesep="\r\n")
    boundary = re.search(rb'boundary="([^"]+)"', sent).group(1).decode()

    assert sent == as_django_writes_it(message, boundary)
    assert b"\r\n =?utf-8?q?Confirmaci=C3=B3n" in sent  # folded, encoded as Django does


@given(name=st.sampled_from(["Subject", "To", "From", "Message-ID", "X-Long-Header-Name"]),
       value=st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x17F),
                     max_size=120))
def test_a_header_is_written_as_compat32_writes_it(name, value):
    reference = compat32.clone(linesep="\r\n")
    policy = SHORT_HEADERS_AS_IS.clone(linesep="\r\n")
    try:
        expected = reference.fold_binary(name, value)
    except Exception as error:  # what compat32 refuses is refused the same way
        with pytest.raises(type(error)):
            policy.fold_binary(name, value)
        return
    assert policy.fold_binary(name, value) == expected


def test_the_boundary_is_never_a_string_found_in_the_bodies(monkeypatch):
    drawn = iter(["0" * 32, "1" * 32])
    monkeypatch.setattr(mime.secrets, "token_hex", lambda size: next(drawn))

    assert boundary_for("text", f"html with =_{'0' * 32} in it") == f"=_{'1' * 32}"


def test_every_message_gets_a_boundary_of_its_own():
    made = {boundary_for("body") for _ in range(100)}

    assert len(made) == 100
    assert all(re.fullmatch(r"=_[0-9a-f]{32}", boundary) for boundary in made)
