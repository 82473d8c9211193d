import os

import pytest
from django.conf import settings
from django.test import Client

from conftest import CHROMIUM_ARGS
from notifications.tests.test_email_history import make_email

# Playwright's sync API runs an event loop in this thread; the ORM calls made here
# between page actions are plain synchronous ones.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

HOSTILE_HTML = (
    "<p id='greeting'>Hello from the email</p>"
    "<script>parent.document.title = 'pwned'; alert('pwned');</script>"
)


@pytest.fixture
def logged_in_page(chromium_path, live_server, customer):
    from playwright.sync_api import sync_playwright

    client = Client()
    client.force_login(customer)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="en-GB")
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "url": live_server.url,
                              "value": client.cookies[settings.SESSION_COOKIE_NAME].value}])
        yield context.new_page()
        context.close()
        browser.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_html_body_is_shown_in_a_sandbox_where_its_scripts_do_not_run(
    live_server, logged_in_page, customer
):
    page = logged_in_page
    email = make_email(customer, "A hostile email", body_html=HOSTILE_HTML)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    page.goto(f"{live_server.url}/account/emails/")
    page.click("text=A hostile email")
    page.wait_for_url(f"{live_server.url}/account/emails/{email.pk}/")

    frame = page.frame_locator("iframe.email-html-body")
    assert frame.locator("#greeting").inner_text() == "Hello from the email"
    page.wait_for_timeout(300)
    assert dialogs == []
    assert "pwned" not in page.title()
    page.click("#text-tab")
    assert "Text of A hostile email" in page.inner_text("#text-body")
