"""A new customer's whole journey in Chromium, in Spanish, English and French: signup →
NIC handle → confirmation link from the email → login with the NIC handle in upper case →
«Mi cuenta → Modificar → Aceptar» → email change with the code from the email → order →
invoice → PDF → logout. Each page at 1366 px and at 390 px: a screenshot under
var/test-artifacts/journey-<language>/ (the path is printed), no sideways scroll, the NIC
handle in sight once logged in, no critical or serious axe-core violation.

And the login and the profile edit with the keyboard alone.

Emails are the in-memory `mail.outbox` (eager Celery in this process: live_server serves
from a thread of it)."""

import os
import re

import pytest
from django.core import mail
from django.utils import translation
from django.utils.translation import gettext

from accounts.models import User
from billing.models import Invoice
from billing.tests.conftest import catalogue_product
from conftest import CHROMIUM_ARGS, PASSWORD, make_customer
from portal.tests.browser import (
    BROWSER_LOCALES,
    DESKTOP,
    PHONE,
    PageAudit,
    artefacts_dir,
    require_axe,
)

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def chromium(chromium_path):
    from playwright.sync_api import sync_playwright

    require_axe()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def words(language, text):
    with translation.override(language):
        return gettext(text)


def link_in(address, pattern):
    """The path of the link matching `pattern` in the last email sent to `address`."""
    bodies = [m.body for m in mail.outbox if address in m.to]
    assert bodies, f"no email to {address}"
    return re.search(rf"https?://[^/\s]+({pattern})", bodies[-1]).group(1)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["es", "en", "fr"])
def test_a_new_customer_goes_through_the_whole_journey(live_server, chromium, language,
                                                      settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    catalogue_product("web-hosting")
    context = chromium.new_context(locale=BROWSER_LOCALES[language], viewport=DESKTOP,
                                   bypass_csp=True)  # axe-core's script
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    audit = PageAudit(page, artefacts_dir(f"journey-{language}"))
    url = live_server.url
    address = f"journey.{language}@example.org"

    def look(name, *, nic=True):
        """The page at both widths, then back to the desktop width."""
        for viewport in (PHONE, DESKTOP):
            page.set_viewport_size(viewport)
            audit.check(name, nic=nic)

    # Signup, in the browser's language.
    page.goto(f"{url}/signup/")
    assert page.locator("html").get_attribute("lang") == language
    look("signup", nic=False)
    page.fill("#id_first_name", "Inés")
    page.fill("#id_last_name", "Núñez")
    page.select_option("#id_legal_form", "individual")
    page.fill("#id_email", address)
    page.fill("#id_spare_email", f"spare.{language}@example.net")
    page.fill("#id_phone", "+34 912 345 678")
    page.select_option("#id_language", language)
    page.fill("#id_address", "12 Calle Mayor")
    page.fill("#id_zip", "28013")
    page.fill("#id_city", "Madrid")
    page.select_option("#id_country", "ES")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.click("#signup-form [type=submit]")
    page.wait_for_url(f"{url}/signup/done/")
    look("signup-done", nic=False)

    # The confirmation link from the email shows the NIC handle, unbroken.
    user = User.objects.get(email=address)
    page.goto(url + link_in(address, r"/signup/confirm/\S+/"))
    nic_handle = page.inner_text("#new-nic-handle").strip()
    assert re.fullmatch(r"in\d{6}-OVH", nic_handle) and nic_handle == user.nic_handle
    for viewport in (PHONE, DESKTOP):
        page.set_viewport_size(viewport)
        assert page.locator("#new-nic-handle").bounding_box()["height"] < 60  # one line
    look("confirmed", nic=False)
    audit.nic_handle = nic_handle

    # Login with the NIC handle in upper case.
    page.click("#confirm-login")
    page.wait_for_url(f"{url}/login/")
    look("login", nic=False)
    page.fill("#id_username", nic_handle.upper())
    page.fill("#id_password", PASSWORD)
    page.click("#login-form [type=submit]")
    page.wait_for_url(f"{url}/account/")
    look("dashboard")

    # «Mi cuenta → Modificar → Aceptar», at phone width: the account button is in sight.
    page.set_viewport_size(PHONE)
    page.click("#account-menu")
    page.click("#my-account-link")
    page.wait_for_url(f"{url}/account/profile/")
    look("profile")
    assert page.inner_text("#modify-button").strip() == words(language, "Modify")
    page.click("#modify-button")
    page.wait_for_url(f"{url}/account/profile/edit/")
    look("profile-edit")
    page.fill("#id_city", "Sevilla")
    accept = page.locator("#profile-form [type=submit]")
    assert accept.inner_text().strip() == words(language, "Accept")
    accept.click()
    page.wait_for_url(f"{url}/account/profile/")
    assert words(language, "Your information has been updated.") in page.inner_text("main")
    user.refresh_from_db()
    assert user.city == "Sevilla"

    # Email change with the code from the email sent to the current address.
    new_address = f"new.{language}@example.org"
    page.goto(f"{url}/account/email/")
    page.fill("#id_new_email", new_address)
    page.fill("#id_new_email2", new_address)
    page.fill("#id_password", PASSWORD)
    page.click("#email-change-form [type=submit]")
    page.wait_for_selector("#pending-email-change")
    look("email-change-pending")
    code_email = [m for m in mail.outbox if address in m.to][-1]
    label = re.escape(words(language, "Your verification code:"))
    code = re.search(rf"{label}\s*(\S+)", code_email.body).group(1)
    page.click("#have-code")
    page.wait_for_url(f"{url}/account/email/verify/")
    look("email-change-verify")
    page.fill("#id_code", code)
    page.click("#verify-form [type=submit]")
    page.wait_for_load_state()
    user.refresh_from_db()
    assert user.email == new_address
    look("email-changed")

    # Order → invoice → PDF.
    page.goto(f"{url}/billing/orders/new/")
    look("order-new")
    page.check(f"input[name=product][value='{catalogue_product('web-hosting').pk}']")
    page.check("input[name=period][value=year]")
    page.fill("#id_service_name", f"journey-{language}.com")
    page.click("#order-form [type=submit]")
    page.wait_for_selector("#confirm-order")
    look("order-confirm")
    page.click("#confirm-order")
    page.wait_for_url(re.compile(rf"{url}/billing/orders/\d+/"))
    look("order")
    page.click("#order-invoice")
    page.wait_for_url(re.compile(rf"{url}/billing/invoices/[^/]+/$"))
    invoice = Invoice.objects.get(customer=user)
    assert page.inner_text("#invoice-nic-handle").strip() == nic_handle
    look("invoice")
    page.goto(f"{url}/billing/invoices/")
    look("invoices")
    pdf = context.request.get(f"{url}/billing/invoices/{invoice.number}/pdf/")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")
    (audit.folder / f"{invoice.number}.pdf").write_bytes(pdf.body())

    # Logout, from the phone's account button; the login page says so.
    page.set_viewport_size(PHONE)
    page.click("#account-menu")
    page.click("#logout-button")
    page.wait_for_url(f"{url}/login/")
    assert words(language, "You are logged out. See you soon.") in page.inner_text("main")
    look("logged-out", nic=False)

    audit.report()
    assert audit.failures() == []
    assert errors == []
    context.close()


def focused(page):
    return page.evaluate("""() => {
        const el = document.activeElement;
        return el ? (el.id || el.getAttribute('name') || el.className || el.tagName) : null;
    }""")


def tab_to(page, element_id, limit=40):
    """Press Tab until the element with this id has the focus; the ids passed on the way."""
    passed = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        passed.append(now)
        if now == element_id:
            return passed
    raise AssertionError(f"Tab never reached #{element_id}: {passed}")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_login_and_the_profile_edit_work_with_the_keyboard_alone(live_server, chromium):
    customer = make_customer("keys@example.org", first_name="Kim", last_name="Keyboard",
                             language="es", address="1 Calle Mayor", city="Madrid",
                             zip="28013", country="ES", phone="+34912345678")
    context = chromium.new_context(locale="es-ES", viewport=PHONE)
    page = context.new_page()
    url = live_server.url
    page.goto(f"{url}/login/")

    # The login form puts the focus in its first field.
    assert focused(page) == "id_username"
    page.keyboard.type(customer.nic_handle.upper())
    page.keyboard.press("Tab")
    assert focused(page) == "id_password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{url}/account/")

    # «Mi cuenta»: the first Tab reaches the skip link, the next ones the brand and the
    # account button, next to the menu button on a phone.
    page.keyboard.press("Tab")
    assert "skip-link" in focused(page)
    assert page.locator(".skip-link").is_visible()
    tab_to(page, "account-menu", limit=2)  # after the brand, before the menu button
    page.keyboard.press("Enter")
    page.wait_for_selector("#my-account-link", state="visible")
    tab_to(page, "my-account-link", limit=3)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{url}/account/profile/")

    # «Modificar»: the skip link, then the first control of the page is the button.
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    tab_to(page, "modify-button", limit=3)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"{url}/account/profile/edit/(#main)?$"))

    # The form: its first field, type, then Tab to «Aceptar» and Enter.
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # skip link
    tab_to(page, "id_first_name", limit=4)
    tab_to(page, "id_city", limit=10)
    page.keyboard.press("Control+A")
    page.keyboard.type("Toledo")
    tab_to(page, "profile-accept", limit=15)
    page.keyboard.press("Enter")
    # Chromium keeps the skip link's #main through the form's redirect.
    page.wait_for_url(re.compile(rf"{url}/account/profile/(#main)?$"))
    customer.refresh_from_db()
    assert customer.city == "Toledo"
    # The focus ring is visible: an outline wide enough to see on the dark navbar.
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineWidth")
    assert float(outline.removesuffix("px")) >= 2
    context.close()
