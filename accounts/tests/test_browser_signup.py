import os
import re

import pytest

from accounts.models import User
from conftest import CHROMIUM_ARGS, PASSWORD

# Playwright's sync API runs an event loop in this thread; the ORM calls made here
# between page actions are plain synchronous ones.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")



@pytest.fixture
def page(chromium_path, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="en-GB")
        yield context.new_page()
        context.close()
        browser.close()


def confirmation_path(address):
    """The confirmation link of the email the signup sent (delivered in this process)."""
    from django.core import mail

    bodies = [m.body for m in mail.outbox if m.to == [address]]
    assert len(bodies) == 1
    return re.search(r"https?://[^/\s]+(/signup/confirm/\S+/)", bodies[0]).group(1)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_new_customer_signs_up_confirms_the_address_and_logs_in_with_the_nic_handle_in_upper_case(
    live_server, page
):
    page.goto(f"{live_server.url}/signup/")
    page.fill("#id_first_name", "Daniel")
    page.fill("#id_last_name", "Martín")
    page.select_option("#id_legal_form", "individual")
    page.fill("#id_email", "browser.daniel@example.org")
    page.fill("#id_spare_email", "browser.spare@example.net")
    page.fill("#id_phone", "+34 912 345 678")
    page.select_option("#id_language", "en")
    page.fill("#id_address", "12 Calle Mayor")
    page.fill("#id_zip", "28013")
    page.fill("#id_city", "Madrid")
    page.select_option("#id_country", "ES")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.click("#signup-form [type=submit]")

    # The same page whether or not the address was taken: no NIC handle, not logged in.
    page.wait_for_url(f"{live_server.url}/signup/done/")
    assert "Check your inbox" in page.inner_text("#signup-done")
    assert page.locator("#account-menu").count() == 0
    user = User.objects.get(email="browser.daniel@example.org")
    assert user.nic_handle not in page.content()

    page.goto(f"{live_server.url}{confirmation_path(user.email)}")
    nic_handle = page.inner_text("#new-nic-handle").strip()
    assert re.fullmatch(r"dm\d{6}-OVH", nic_handle)
    assert nic_handle == user.nic_handle
    assert f"Your customer ID is {nic_handle} — keep it and your password in a safe place" \
        in page.inner_text("#nic-handle-sentence")
    page.click("#confirm-login")
    page.wait_for_url(f"{live_server.url}/login/")

    page.fill("#id_username", nic_handle.upper())
    page.fill("#id_password", PASSWORD)
    page.click("#login-form [type=submit]")
    page.wait_for_url(f"{live_server.url}/account/")

    menu = page.locator("#account-menu")
    assert menu.inner_text().split() == ["Daniel", "Martín", nic_handle]
    assert "address not confirmed" not in page.content()
    box = menu.bounding_box()
    width = page.viewport_size["width"]
    assert box["x"] > width / 2, "the name and NIC handle sit in the right half of the page"
    assert box["y"] < 100, "the name and NIC handle sit at the top of the page"
    page.screenshot(path=os.environ.get("BROWSER_SCREENSHOT", "/tmp/portal-dashboard.png"))
