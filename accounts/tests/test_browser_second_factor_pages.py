"""The second-factor and session pages at 390 px, in English, Spanish and French: nothing
wider than the screen, no script or style the Content-Security-Policy blocks."""

import os

import pytest

from accounts import services
from conftest import CHROMIUM_ARGS, PASSWORD, make_customer, totp_code

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

SHOTS = os.environ.get("SHOTS_DIR", "")


@pytest.fixture
def narrow_page(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="en-GB", viewport={"width": 390, "height": 844})
        page = context.new_page()
        problems = []
        page.on("console", lambda message: problems.append(message.text)
                if "Content Security Policy" in message.text else None)
        yield page, problems
        context.close()
        browser.close()


def fits(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, name), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{name}: {width} px wide"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "es", "fr"])
def test_the_pages_fit_390_px_in_each_language(live_server, narrow_page, customer, language):
    page, problems = narrow_page
    customer.language = language
    customer.save()
    base = live_server.url
    page.goto(f"{base}/login/")
    page.fill("#id_username", customer.nic_handle)
    page.fill("#id_password", PASSWORD)
    page.click("#login-form [type=submit]")
    page.wait_for_url(f"{base}/account/")

    page.goto(f"{base}/account/security/totp/")
    fits(page, f"totp-enrol-{language}-390.png")
    device = customer.authenticatorapp_set.get(confirmed=False)
    page.fill("#id_code", totp_code(device))
    page.click("#totp-confirm-form [type=submit]")
    page.wait_for_selector("#backup-codes")
    fits(page, f"backup-codes-{language}-390.png")
    assert services.second_factor_enabled(user=customer)

    page.goto(f"{base}/account/security/")
    fits(page, f"security-{language}-390.png")
    page.goto(f"{base}/account/security/second-factor/off/")
    fits(page, f"second-factor-off-{language}-390.png")
    page.goto(f"{base}/account/security/totp/remove/")
    fits(page, f"totp-remove-{language}-390.png")
    page.goto(f"{base}/account/reauth/?next=/account/email/")
    fits(page, f"reauth-{language}-390.png")

    page.context.clear_cookies()
    page.goto(f"{base}/login/")
    page.fill("#id_username", customer.nic_handle)
    page.fill("#id_password", PASSWORD)
    page.click("#login-form [type=submit]")
    page.wait_for_url(f"{base}/login/second-step/")
    fits(page, f"login-second-step-{language}-390.png")
    page.fill("#id_code", totp_code(device, offset=1))
    page.click("#second-step-form [type=submit]")
    page.wait_for_url(f"{base}/account/")
    assert problems == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_staff_are_sent_to_enrol_in_the_browser(live_server, narrow_page):
    page, problems = narrow_page
    support_agent = make_customer("staff@portal.example", first_name="Sam", last_name="Staff")
    support_agent.is_staff = True
    support_agent.save()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", support_agent.nic_handle)
    page.fill("#id_password", PASSWORD)
    page.click("#login-form [type=submit]")
    page.wait_for_url(f"{live_server.url}/account/security/totp/")
    fits(page, "staff-sent-to-enrol-390.png")
    assert "Support staff must use two-step verification" in page.content()
    assert problems == []
