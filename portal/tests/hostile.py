"""Hostile input for the property tests: text, addresses and form bodies that have broken
web applications before, and a client that answers every request as a browser would get
it (an exception becomes the 500 page instead of reaching the test).

Every test that uses them says the same thing: whatever is posted, the answer is a page
(with a form error where the input is refused) or a 4xx, never a 500. Each example runs in
a transaction rolled back at its end, with an empty cache (rate limits), so one example's
account or throttle never changes the next."""

import io
from contextlib import contextmanager
from urllib.parse import urlencode

from django.core.cache import cache
from django.db import transaction
from django.test import Client
from hypothesis import strategies as st

# Values that broke real applications: NUL (PostgreSQL refuses it in text), line and
# direction controls, look-alike letters, markup and SQL, numbers past every column.
NASTY = [
    "", " ", "\x00", "a\x00b", "\r\n", "\t", "\x1b[31m", "\x7f", "\u0085", "\u2028",
    "\u200b", "\u200e", "\u202egnp.exe", "\u2066x\u2069", "\ufeff", "\ufffd", "\uffff",
    "😀", "👩‍👩‍👧‍👦", "🇪🇸", "Ñúñez", "Δημήτρης", "Дмитрий", "محمد", "דניאל", "山田太郎",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "ｆｕｌｌｗｉｄｔｈ", "ǅ", "ß", "İ", "ﬁ",
    "<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "{{ 7|add:7 }}",
    "{% debug %}", "%(name)s", "%s%s%s%n", "{0}", "${7*7}",
    "' OR '1'='1", "'; DROP TABLE accounts_user; --", "\\", "%", "_", "../../etc/passwd",
    "-1", "0", "1e309", "NaN", "Infinity", "99999999999999999999999", "-9223372036854775809",
    "2147483648", "0x10", "1.5", "١٢٣", "true", "null", "[]", "{}",
]

# Addresses: look-alikes of daniel@example.org, internationalised domains, invalid forms.
NASTY_EMAILS = [
    "daniel@example.org", "DANIEL@EXAMPLE.ORG", "dаniel@example.org", "daniel@exаmple.org",
    "ｄaniel@example.org", "dan\u200biel@example.org", "daniel\u00ad@example.org",
    "daniel@example.org\x00", "\x00@example.org", "daniel@ex\u202eample.org",
    "user@例え.jp", "user@bücher.de", "user@xn--bcher-kva.de", "user@faß.de", "user@ΣΑΣ.gr",
    "user@localhost", "user@[127.0.0.1]", "a@b", "@", "@example.org", "user@", "a" * 300 + "@x.org",
    "user@" + "a" * 64 + ".org", "user@" + ".".join(["a" * 63] * 5),
    '"quoted user"@example.org', "user+tag@example.org", "user@example.org\r\nBcc: x@y.z",
    "<script>@example.org", "user@-example.org", "user@example..org",
]

MISSING = object()

# Characters of every category but surrogates (a browser cannot send one in UTF-8).
any_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=80)

long_text = st.builds(lambda piece, count: piece * count,
                      st.sampled_from(["a", "é", "😀", "\x00", "<b>", "\u202e", "x y "]),
                      st.integers(min_value=100, max_value=20_000))

hostile_text = st.one_of(st.sampled_from(NASTY), any_text, long_text,
                         st.builds("".join, st.lists(st.sampled_from(NASTY), max_size=5)))

hostile_email = st.one_of(
    st.sampled_from(NASTY_EMAILS), st.emails(),
    st.builds(lambda local, domain: f"{local}@{domain}", hostile_text,
              st.sampled_from(["example.org", "bücher.de", "例え.jp"])),
    hostile_text,
)


def hostile_value(kind="text"):
    """One field's value: hostile text (or address), missing, or sent two or three times."""
    one = hostile_email if kind == "email" else hostile_text
    return st.one_of(one, st.just(MISSING), st.lists(one, min_size=2, max_size=3))


@st.composite
def form_data(draw, valid, *, emails=(), fixed=()):
    """The valid submission `valid` with some of its fields hostile, missing or doubled,
    and perhaps extra fields. Fields in `fixed` keep their valid value."""
    data = {}
    for name, value in valid.items():
        if name not in fixed and draw(st.booleans()):
            value = draw(hostile_value("email" if name in emails else "text"))
        if value is not MISSING:
            data[name] = value
    for name in draw(st.lists(st.sampled_from(["extra", "id", "pk", "is_staff", "is_superuser",
                                               "nic_handle", "csrfmiddlewaretoken", "\x00",
                                               "a" * 500, "😀", "user[]"]), max_size=3)):
        data[name] = draw(hostile_text)
    return data


encodings = st.sampled_from(["multipart", "urlencoded"])

# A URL path segment: hostile text without "/" (a new segment), or a number past every column.
path_segment = st.one_of(hostile_text.map(lambda text: text.replace("/", "")),
                         st.integers(min_value=-(2**70), max_value=2**70).map(str))

# Files as a browser may send them: any name (paths, NUL, direction marks, no extension),
# any content (empty, a type's magic bytes followed by junk, text with controls, bytes).
hostile_file_content = st.one_of(
    st.sampled_from([b"", b"\x00", b"%PDF-", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff",
                     b"MZ\x90\x00", b"<html><script>alert(1)</script>", b"\xef\xbb\xbf",
                     b"\xc3\x28", "Ça marche\n".encode(), b"GIF89a", b"PK\x03\x04"]),
    st.builds(bytes.__add__, st.sampled_from([b"%PDF-", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff"]),
              st.binary(max_size=200)),
    st.binary(max_size=300),
    hostile_text.map(lambda text: text.encode("utf-8")[:5000]),
)

hostile_file_name = st.one_of(
    st.sampled_from(["report.pdf", "", ".", "..", "../../etc/passwd", "a\x00.pdf", "a.pdf\x00.exe",
                     "\u202egnp.exe", "con", "x" * 300 + ".pdf", "a\r\nb.txt", 'a".txt', "😀.png",
                     "C:\\boot.ini", "%2e%2e%2f.txt", "noext"]),
    hostile_text.map(lambda text: text[:200] + ".pdf"),
)


class Upload(io.BytesIO):
    """A file part for the test client, its name and type sent as given (Django's
    SimpleUploadedFile refuses the names a hostile browser sends)."""

    def __init__(self, name, content, content_type="application/octet-stream"):
        super().__init__(content)
        self.name, self.content_type = name, content_type


@st.composite
def hostile_files(draw, max_files=4):
    """Zero to `max_files` uploads with hostile names, types and contents."""
    return [Upload(draw(hostile_file_name), draw(hostile_file_content),
                   draw(st.sampled_from(["application/pdf", "image/png", "text/plain",
                                         "text/html", "application/octet-stream", "",
                                         "\x00/\x00"])))
            for _ in range(draw(st.integers(min_value=0, max_value=max_files)))]


def browser():
    """A client that gets the 500 page, as a browser would, instead of the exception."""
    return Client(raise_request_exception=False)


def logged_in(user):
    """browser(), logged in as `user` (a customer; staff use conftest.staff_log_in)."""
    client = browser()
    client.force_login(user)
    return client


@contextmanager
def example():
    """One example: its rows rolled back and the rate limits emptied at its end."""
    cache.clear()
    with transaction.atomic():
        yield
        transaction.set_rollback(True)
    cache.clear()


def post(client, url, data, encoding="multipart", **extra):
    if encoding == "urlencoded":
        return client.post(url, urlencode(data, doseq=True),
                           content_type="application/x-www-form-urlencoded", **extra)
    return client.post(url, data, **extra)


def assert_no_server_error(response, what=""):
    assert response.status_code < 500, (
        f"{what} answered {response.status_code}: {response.content[:2000]!r}")
    return response
