"""No code or link that grants access is readable once its email is queued: not in the
email history, not in the outbox admin, not anywhere in the database in clear. Only
the message that leaves for the SMTP server carries it."""

import io
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client

from accounts.models import User
from conftest import PASSWORD, prove_password
from notifications import delivery, services
from notifications.kinds import UnknownEmailKind, email_kind, email_kinds
from notifications.models import OutboundEmail
from notifications.secrets import secrets_open

pytestmark = pytest.mark.django_db

RESET_LINK = re.compile(r"/reset/[^/\s\"]+/[^/\s\"]+/")
CODE = re.compile(r"Your verification code: ([A-Z0-9]{8})")
TOKEN_LINK = re.compile(r"/account/email/(?:refuse|confirm)/([^/\s\"]+)/")


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)
    return run


def ask_reset(login, on_commit):
    return on_commit(Client().post, "/password-reset/", {"login": login})


def ask_email_change(client, on_commit, new="new.address@example.com"):
    return on_commit(client.post, "/account/email/",
                     {"new_email": new, "new_email2": new, "password": PASSWORD})


def sent_secrets():
    """Every code and token the customer received by email (from the SMTP side)."""
    found = set()
    for message in mail.outbox:
        bodies = [message.body, *(part for part, _type in message.alternatives)]
        for body in bodies:
            found |= {match.split("/")[-2] for match in RESET_LINK.findall(body)}
            found |= set(CODE.findall(body)) | set(TOKEN_LINK.findall(body))
    return found


def database_dump():
    out = io.StringIO()
    call_command("dumpdata", stdout=out)
    return out.getvalue()


def test_the_reset_email_in_the_history_shows_the_link_masked(customer_client, customer, on_commit):
    ask_reset(customer.nic_handle, on_commit)
    link = RESET_LINK.search(mail.outbox[-1].body).group(0)
    row = OutboundEmail.objects.get(kind="password_reset")
    page = customer_client.get(f"/account/emails/{row.pk}/").content.decode()
    assert "only in your mailbox" in page
    assert "/reset/" not in page and link.split("/")[-2] not in page


def test_a_reset_link_cannot_be_read_from_the_history_to_take_the_account(
    customer_client, customer, on_commit
):
    ask_reset(customer.email, on_commit)
    row = OutboundEmail.objects.get(kind="password_reset")
    for page in ("/account/emails/", f"/account/emails/{row.pk}/",
                 f"/account/emails/{row.pk}/html/"):
        assert not RESET_LINK.search(customer_client.get(page).content.decode())


def test_the_email_change_code_and_links_are_masked_in_the_history(customer_client, customer,
                                                                   on_commit):
    ask_email_change(customer_client, on_commit)
    code = CODE.search(mail.outbox[0].body).group(1)
    tokens = set(TOKEN_LINK.findall("\n".join(m.body for m in mail.outbox)))
    assert len(tokens) == 2  # refuse (to the current address) and confirm (to the new one)
    for row in OutboundEmail.objects.filter(user=customer):
        for url in (f"/account/emails/{row.pk}/", f"/account/emails/{row.pk}/html/"):
            page = customer_client.get(url).content.decode()
            assert code not in page
            assert not any(token in page for token in tokens)
    code_row = OutboundEmail.objects.get(kind="email_change_code")
    assert "Your verification code: •••••••• (only in your mailbox)" in code_row.shown_text


def test_a_code_read_from_the_history_cannot_confirm_the_change(customer_client, customer,
                                                               on_commit):
    ask_email_change(customer_client, on_commit)
    row = OutboundEmail.objects.get(kind="email_change_code")
    page = customer_client.get(f"/account/emails/{row.pk}/").content.decode()
    assert not CODE.search(page)
    customer.refresh_from_db()
    assert customer.email == "daniel@example.org"


def test_the_outbox_admin_masks_reset_links_and_codes(agent_client, customer, on_commit):
    client = Client()
    client.force_login(customer)
    prove_password(client)
    ask_reset(customer.nic_handle, on_commit)
    ask_email_change(client, on_commit)
    secrets = sent_secrets()
    assert len(secrets) == 4  # reset token, code, refuse and confirm tokens
    for row in OutboundEmail.objects.all():
        for url in (f"/admin/notifications/outboundemail/{row.pk}/change/",
                    f"/admin/notifications/outboundemail/{row.pk}/html/"):
            page = agent_client.get(url)
            assert page.status_code == 200
            text = page.content.decode()
            assert not any(secret in text for secret in secrets), (row.kind, url)
    listing = agent_client.get("/admin/notifications/outboundemail/").content.decode()
    assert not any(secret in listing for secret in secrets)


def test_no_table_holds_a_code_or_token_once_the_emails_are_sent(customer_client, customer,
                                                                 on_commit):
    ask_reset(customer.nic_handle, on_commit)
    ask_email_change(customer_client, on_commit)
    secrets = sent_secrets()
    assert len(secrets) == 4
    dump = database_dump()
    assert customer.nic_handle in dump  # the dump does cover the accounts
    assert [secret for secret in secrets if secret in dump] == []
    assert not OutboundEmail.objects.exclude(sealed_secrets="").exists()


def test_no_table_holds_a_code_or_token_in_clear_while_the_email_waits(customer_client,
                                                                       customer, on_commit):
    # The reset request is handed to a worker; the email-change emails stay queued.
    ask_reset(customer.nic_handle, on_commit)
    customer_client.post("/account/email/", {"new_email": "new.address@example.com",
                                             "new_email2": "new.address@example.com",
                                             "password": PASSWORD})
    waiting = OutboundEmail.objects.filter(status="queued").exclude(sealed_secrets="")
    assert {row.kind for row in waiting} == {"email_change_code", "email_change_confirm_new"}
    secrets = sent_secrets()
    for row in waiting:
        secrets |= {value.rstrip("/").split("/")[-1] for value in
                    secrets_open(row.sealed_secrets)[1].values()}
    assert len(secrets) == 4
    dump = database_dump()
    assert [secret for secret in secrets if secret in dump] == []


def test_the_worker_puts_the_secret_in_the_message_and_wipes_its_sealed_copy(customer):
    row = services.email_queue(template="password_reset", to=customer.email, user=customer,
                               context={"valid_minutes": 60},
                               secrets={"reset_url": "http://portal.test/reset/MQ/abc-123/"})
    assert "abc-123" not in row.body_text + row.body_html and row.sealed_secrets
    delivery.email_deliver(email_id=row.pk)
    message = mail.outbox[-1]
    assert "http://portal.test/reset/MQ/abc-123/" in message.body
    assert 'href="http://portal.test/reset/MQ/abc-123/"' in message.alternatives[0][0]
    row.refresh_from_db()
    assert row.status == "sent" and row.sealed_secrets == ""


def test_a_secret_is_html_escaped_in_the_html_part_only(customer):
    row = services.email_queue(template="password_reset", to=customer.email, user=customer,
                               context={"valid_minutes": 60},
                               secrets={"reset_url": "http://portal.test/reset/?a=1&b=2"})
    delivery.email_deliver(email_id=row.pk)
    message = mail.outbox[-1]
    assert "http://portal.test/reset/?a=1&b=2" in message.body
    assert "http://portal.test/reset/?a=1&amp;b=2" in message.alternatives[0][0]


def test_an_email_that_fails_for_good_loses_its_sealed_secrets(customer, monkeypatch):
    import smtplib

    row = services.email_queue(template="password_reset", to=customer.email, user=customer,
                               context={"valid_minutes": 60},
                               secrets={"reset_url": "http://portal.test/reset/MQ/abc/"})

    def refuse(*args, **kwargs):
        raise smtplib.SMTPRecipientsRefused({customer.email: (550, b"no such user")})

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
    delivery.email_deliver(email_id=row.pk)
    row.refresh_from_db()
    assert row.status == "failed" and row.sealed_secrets == ""


def test_secrets_sealed_under_another_key_fail_the_email_with_a_reason(customer, settings):
    row = services.email_queue(template="password_reset", to=customer.email, user=customer,
                               context={"valid_minutes": 60},
                               secrets={"reset_url": "http://portal.test/reset/MQ/abc/"})
    settings.SECRET_KEY = "a-completely-different-secret-key-for-this-test"
    settings.SECRET_KEY_FALLBACKS = []
    delivery.email_deliver(email_id=row.pk)
    row.refresh_from_db()
    assert row.status == "failed" and "SECRET_KEY" in row.last_error
    assert not mail.outbox


def test_a_rotated_key_still_opens_what_the_previous_key_sealed(customer, settings):
    old_key = settings.SECRET_KEY
    row = services.email_queue(template="password_reset", to=customer.email, user=customer,
                               context={"valid_minutes": 60},
                               secrets={"reset_url": "http://portal.test/reset/MQ/abc/"})
    settings.SECRET_KEY = "the-new-secret-key-after-a-rotation-0123456789"
    settings.SECRET_KEY_FALLBACKS = [old_key]
    delivery.email_deliver(email_id=row.pk)
    assert "http://portal.test/reset/MQ/abc/" in mail.outbox[-1].body


def test_an_undeclared_email_kind_is_refused(customer):
    with pytest.raises(UnknownEmailKind):
        services.email_queue(template="made_up_kind", to=customer.email, user=customer)


@pytest.mark.parametrize("call", [
    {"context": {"valid_minutes": 60, "reset_url": "http://portal.test/reset/x/y/"}},
    {"context": {"valid_minutes": 60}},
    {"context": {"valid_minutes": 60}, "secrets": {"reset_url": "x", "code": "y"}},
])
def test_a_secret_must_be_handed_over_as_declared(customer, call):
    with pytest.raises(ValueError):
        services.email_queue(template="password_reset", to=customer.email, user=customer, **call)
    assert not OutboundEmail.objects.exists()


def test_a_kind_with_secrets_cannot_be_queued_in_bulk(customer):
    with pytest.raises(ValueError):
        services.email_queue_select(template="password_reset", source=User.objects.all(),
                                    user=None, to=None, language=None, context={})


EMAIL_TEMPLATES = Path(settings.BASE_DIR) / "templates" / "emails"
# Values that name pages anyone may open: not secrets.
PUBLIC_LINKS = {"base_url", "invoice_path", "services_path", "login_path", "forgotten_path",
                "contacts_path",
                "credit_note_path", "balance_path",  # pages behind the login
                "support_url"}  # a support request's page, behind the login


def test_every_email_template_belongs_to_a_declared_kind_and_declares_its_links_secret():
    declared = {kind.name for kind in email_kinds()}
    names = {path.name.removesuffix(".subject.txt") for path in EMAIL_TEMPLATES.glob("*.subject.txt")}
    assert names == declared
    for name in names:
        kind = email_kind(name)
        source = "".join((EMAIL_TEMPLATES / f"{name}{suffix}").read_text()
                         for suffix in (".subject.txt", ".txt", ".html"))
        variables = set(re.findall(r"{{\s*(\w+)", source))
        linkish = {v for v in variables
                   if v in {"code", "token"} or v.endswith(("_url", "_path", "_token", "_link"))}
        assert linkish - PUBLIC_LINKS == kind.secrets, name


def test_staff_cannot_resend_an_email_that_carried_a_link(agent_client, customer, on_commit):
    ask_reset(customer.nic_handle, on_commit)
    row = OutboundEmail.objects.get(kind="password_reset")
    sent = len(mail.outbox)
    response = on_commit(agent_client.post, "/admin/notifications/outboundemail/",
                         {"action": "resend", "_selected_action": [row.pk]}, follow=True)
    assert "carried a code or a link" in response.content.decode()
    assert OutboundEmail.objects.filter(kind="password_reset").count() == 1
    assert len(mail.outbox) == sent


def test_plain_text_emails_are_not_html_escaped(customer):
    customer.first_name = "Ana <&> O'Neil"
    customer.save()
    row = services.email_queue(template="password_changed", to=customer.email, user=customer,
                               context={"ip": "198.51.100.7", "how": "change"})
    assert "Hello Ana <&> O'Neil," in row.body_text
    assert "&lt;" not in row.body_text and "&#x27;" not in row.body_text
    assert "Ana &lt;&amp;&gt; O&#x27;Neil" in row.body_html
