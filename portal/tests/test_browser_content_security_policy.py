"""In Chromium, the pages run under their Content-Security-Policy without a violation:
everything they need comes from static files, and an email's HTML part keeps its own
inline styles in its frame."""

import os
import re

import pytest

from billing.tests.conftest import catalogue_product, place_order
from conftest import (
    CHROMIUM_ARGS,
    PASSWORD,
    give_second_factor,
    make_customer,
    totp_code,
)
from notifications.models import OutboundEmail

# Playwright's sync API runs an event loop in this thread; the ORM calls made here
# between page actions are plain synchronous ones.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Reported by the page and by its frames, before any script of theirs runs.
LISTEN = """document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`);
});"""


@pytest.fixture
def browser_page(chromium_path):
    """A page, and the Content Security Policy messages of all its frames."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="en-GB")
        context.add_init_script(LISTEN)
        page = context.new_page()
        violations = []
        page.on("console", lambda message: violations.append(message.text)
                if "Content Security Policy" in message.text or "CSP violation" in message.text
                else None)
        yield page, violations
        context.close()
        browser.close()


def log_in(page, base_url, login, path="/login/"):
    page.goto(f"{base_url}{path}")
    page.fill("#id_username", login)
    page.fill("#id_password", PASSWORD)
    page.click("[type=submit]")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_customer_pages_run_without_a_violation(live_server, browser_page, customer, settings,
                                                tmp_path):
    settings.MEDIA_ROOT = tmp_path  # the invoice's PDF
    page, violations = browser_page
    invoice = place_order(customer, catalogue_product("web-hosting"))[1]
    email = OutboundEmail.objects.create(
        user=customer, kind="account_created", to_address=customer.email, language="en",
        subject="A styled email", body_text="Text of the styled email",
        body_html='<p id="greeting" style="color: rgb(220, 53, 69)">Hello</p>'
                  "<script>document.title = 'ran'</script>")

    log_in(page, live_server.url, customer.nic_handle)
    page.wait_for_url(f"{live_server.url}/account/")
    page.click("#account-menu")  # Bootstrap's script runs
    assert page.is_visible("#my-account-link")

    page.goto(f"{live_server.url}/account/emails/{email.pk}/")
    greeting = page.frame_locator("iframe.email-html-body").locator("#greeting")
    assert greeting.evaluate("element => getComputedStyle(element).color") == "rgb(220, 53, 69)"
    frame_box = page.locator("iframe.email-html-body").bounding_box()
    assert frame_box["height"] == 640  # portal.css, not an inline style
    assert page.frame(url=re.compile(r"/html/$")).title() != "ran"  # its script did not run
    page.click("#text-tab")
    assert "Text of the styled email" in page.inner_text("#text-body")
    assert page.locator("#text-body pre").evaluate(
        "element => getComputedStyle(element).whiteSpace") == "pre-wrap"

    page.goto(f"{live_server.url}/billing/invoices/{invoice.number}/")
    assert page.locator("#invoice-customer").evaluate(
        "element => getComputedStyle(element).textAlign") == "right"  # invoice.css

    page.click("#invoice-pdf-link")  # Chromium's PDF viewer, under the policy too
    page.wait_for_url(f"{live_server.url}/billing/invoices/{invoice.number}/pdf/")
    page.goto(f"{live_server.url}/account/security/")
    page.goto(f"{live_server.url}/account/email/")
    page.wait_for_timeout(300)
    assert violations == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_admin_runs_without_a_violation(live_server, browser_page, customer):
    page, violations = browser_page
    staff = make_customer("staff@portal.example", first_name="Sam", last_name="Staff")
    staff.is_staff = staff.is_superuser = True
    staff.save()
    email = OutboundEmail.objects.create(
        user=customer, kind="account_created", to_address=customer.email, language="en",
        subject="Welcome", body_text="Welcome", body_html='<p id="greeting" style="color: rgb(220, 53, 69)">Hello</p>')

    device = give_second_factor(staff)

    log_in(page, live_server.url, staff.email, path="/admin/login/")
    page.wait_for_url(f"{live_server.url}/login/second-step/")
    page.fill("#id_code", totp_code(device))
    page.click("#second-step-form [type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    page.goto(f"{live_server.url}/admin/accounts/user/?q={customer.nic_handle}")
    page.click(f"#result_list >> text={customer.nic_handle}")
    page.wait_for_url(re.compile(rf"/admin/accounts/user/{customer.pk}/change/"))
    page.fill("#id_city", "Sevilla")
    page.click("[name=_save]")
    page.wait_for_selector(".messagelist .success")
    customer.refresh_from_db()
    assert customer.city == "Sevilla"

    page.goto(f"{live_server.url}/admin/notifications/outboundemail/{email.pk}/change/")
    greeting = page.frame_locator("iframe.outbox-html-body").locator("#greeting")
    assert greeting.evaluate("element => getComputedStyle(element).color") == "rgb(220, 53, 69)"
    page.wait_for_timeout(300)
    assert violations == []
