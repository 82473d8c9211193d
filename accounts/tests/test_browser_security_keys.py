"""Security keys and passkeys in Chromium, with its virtual authenticator (CDP)."""

import os

import pytest

from accounts.models import SecurityEvent, SecurityKey
from conftest import CHROMIUM_ARGS, PASSWORD
from notifications.models import OutboundEmail

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

SHOTS = os.environ.get("SHOTS_DIR", "")


@pytest.fixture
def page_with_authenticator(chromium_path):
    """A 390 px wide page, a virtual platform authenticator, and the page's errors."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="en-GB", viewport={"width": 390, "height": 844})
        page = context.new_page()
        errors = []
        page.on("console", lambda message: errors.append(message.text)
                if message.type == "error" and "Failed to load resource" not in message.text
                else None)
        page.on("response", lambda response: errors.append(f"{response.status} {response.url}")
                if response.status >= 400 and not response.url.endswith("/favicon.ico")
                else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        cdp = context.new_cdp_session(page)
        cdp.send("WebAuthn.enable")
        cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
            "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
            "hasUserVerification": True, "isUserVerified": True}})
        yield page, errors
        context.close()
        browser.close()


def log_in(page, base_url, customer):
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", customer.nic_handle)
    page.fill("#id_password", PASSWORD)
    page.click("#login-form [type=submit]")


def register_first_key(page, base_url, customer, name):
    """Log in, register a key under `name`: the first factor shows the backup codes."""
    log_in(page, base_url, customer)
    page.wait_for_url(f"{base_url}/account/")
    page.goto(f"{base_url}/account/security/keys/")
    page.fill("#id_name", name)
    page.click("#add-security-key")
    page.wait_for_selector("#backup-codes")


def shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, name), full_page=True)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_customer_registers_a_security_key_and_logs_in_with_it(live_server,
                                                                 page_with_authenticator,
                                                                 customer):
    page, errors = page_with_authenticator
    log_in(page, live_server.url, customer)
    page.wait_for_url(f"{live_server.url}/account/")

    page.goto(f"{live_server.url}/account/security/keys/")
    shot(page, "security-keys-390.png")
    page.fill("#id_name", "Laptop passkey")
    page.click("#add-security-key")
    page.wait_for_selector("#backup-codes")  # the first factor: ten backup codes, once
    shot(page, "security-key-backup-codes-390.png")
    key = SecurityKey.objects.get(user=customer)
    assert key.name == "Laptop passkey"
    assert customer.security_events.filter(action=SecurityEvent.Action.SECOND_FACTOR_ADDED,
                                           detail__factor="security_key").exists()
    assert "security key was added" in OutboundEmail.objects.get(
        kind="second_factor_changed").subject

    page.eval_on_selector("#logout-button", "button => button.form.submit()")
    page.wait_for_url(f"{live_server.url}/login/")
    log_in(page, live_server.url, customer)
    page.wait_for_url(f"{live_server.url}/login/second-step/")
    shot(page, "login-second-step-key-390.png")
    page.click("#use-security-key")
    page.wait_for_url(f"{live_server.url}/account/")
    key.refresh_from_db()
    assert key.last_used_at is not None

    # "Confirm it's you" with the password and the key.
    page.goto(f"{live_server.url}/account/reauth/?next=/account/security/keys/")
    shot(page, "reauth-key-390.png")
    page.fill("#id_password", PASSWORD)
    page.click("#reauth-security-key")
    page.wait_for_url(f"{live_server.url}/account/security/keys/")
    assert errors == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_assertion_for_another_challenge_is_refused(live_server, page_with_authenticator,
                                                       customer):
    """The login's challenge is used once: replaying the browser's answer fails."""
    page, _errors = page_with_authenticator
    register_first_key(page, live_server.url, customer, "Key")
    page.eval_on_selector("#logout-button", "button => button.form.submit()")
    page.wait_for_url(f"{live_server.url}/login/")
    log_in(page, live_server.url, customer)
    page.wait_for_url(f"{live_server.url}/login/second-step/")
    captured = {}
    page.on("request", lambda request: captured.setdefault("body", request.post_data)
            if request.url.endswith("/login/second-step/") and request.method == "POST"
            else None)
    page.click("#use-security-key")
    page.wait_for_url(f"{live_server.url}/account/")
    page.eval_on_selector("#logout-button", "button => button.form.submit()")
    page.wait_for_url(f"{live_server.url}/login/")
    log_in(page, live_server.url, customer)
    page.wait_for_url(f"{live_server.url}/login/second-step/")
    token = page.input_value("#security-key-login-form input[name=csrfmiddlewaretoken]")
    from urllib.parse import parse_qs
    credential = parse_qs(captured["body"])["credential"][0]
    response = page.request.post(f"{live_server.url}/login/second-step/", form={
        "csrfmiddlewaretoken": token, "credential": credential},
        headers={"Referer": f"{live_server.url}/login/second-step/"})
    assert "This code is not valid" in response.text()
    assert page.request.get(f"{live_server.url}/account/", max_redirects=0).status == 302


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_key_only_account_removes_its_key_with_the_password_and_the_key(
        live_server, page_with_authenticator, customer):
    """The last factor goes only with the password and that key's own answer (or a
    backup code), given on the removal page itself."""
    page, errors = page_with_authenticator
    register_first_key(page, live_server.url, customer, "Only key")
    key = SecurityKey.objects.get(user=customer)

    page.goto(f"{live_server.url}/account/security/keys/")
    page.click(f"a[href='/account/security/keys/{key.pk}/remove/']")
    page.wait_for_url(f"{live_server.url}/account/security/keys/{key.pk}/remove/")
    shot(page, "security-key-remove-390.png")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.click("#confirm-with-security-key")  # no password yet: the browser asks for it
    assert page.url.endswith(f"/keys/{key.pk}/remove/")
    assert SecurityKey.objects.filter(pk=key.pk).exists()
    page.fill("#id_password", PASSWORD)
    page.click("#confirm-with-security-key")
    page.wait_for_url(f"{live_server.url}/account/security/keys/")
    assert "The security key has been removed." in page.content()
    assert not SecurityKey.objects.filter(user=customer).exists()
    assert "security key was removed" in OutboundEmail.objects.filter(
        kind="second_factor_changed").latest("pk").subject
    assert errors == []
