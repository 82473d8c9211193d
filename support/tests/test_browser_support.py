"""In Chromium at 390 px: the support pages fit the width and run under the
Content-Security-Policy without a violation, in each language. Screenshots go to
$SHOTS_DIR when it is set."""

import os

import pytest

from billing.tests.conftest import catalogue_product, place_order
from conftest import PASSWORD, give_second_factor, make_customer, totp_code
from portal.tests.test_browser_content_security_policy import CHROMIUM_ARGS, LISTEN
from support.models import CannedAnswer
from support.services import support_request_note, support_request_staff_reply
from support.tests.conftest import PDF, open_request, upload

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
SHOTS = os.environ.get("SHOTS_DIR")


def shoot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def fits(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "es", "fr"])
def test_support_pages_fit_390_px_without_a_violation(live_server, chromium_path, customer,
                                                      language, settings, tmp_path):
    from playwright.sync_api import sync_playwright

    settings.MEDIA_ROOT = tmp_path
    customer.language = language
    customer.save()
    _order, invoice, service = place_order(customer, catalogue_product("web-hosting"),
                                           name="a-rather-long-domain-name-example.com")
    agent = make_customer("agent2@portal.example", first_name="Alex", last_name="Agent")
    support_request = open_request(customer, subject="Mi web no carga desde esta mañana",
                                   body="Error 500 en todas las páginas.\nGracias.",
                                   service=service, invoice=invoice,
                                   attachments=[upload("captura de pantalla.pdf", PDF)])
    support_request_staff_reply(support_request=support_request, staff_user=agent,
                                body="Hemos reiniciado el servidor. ¿Funciona ahora?")
    support_request_note(support_request=support_request, staff_user=agent,
                         body="INTERNAL: disk was full")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 390, "height": 844},
                                      locale={"en": "en-GB", "es": "es-ES", "fr": "fr-FR"}[language])
        context.add_init_script(LISTEN)
        page = context.new_page()
        violations = []
        page.on("console", lambda m: violations.append(m.text)
                if "Content Security Policy" in m.text or "CSP violation" in m.text else None)

        page.goto(f"{live_server.url}/contact/")
        assert fits(page)
        shoot(page, f"contact-{language}")

        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", customer.nic_handle)
        page.fill("#id_password", PASSWORD)
        page.click("[type=submit]")
        page.wait_for_url(f"{live_server.url}/account/")
        for name, path in (("list", "/account/support/"), ("new", "/account/support/new/"),
                           ("detail", f"/account/support/{support_request.number}/")):
            page.goto(f"{live_server.url}{path}")
            assert fits(page), name
            shoot(page, f"{name}-{language}")
        assert "INTERNAL" not in page.content()
        page.wait_for_timeout(200)
        context.close()
        browser.close()
    assert violations == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_admin_request_page_runs_without_a_violation(live_server, chromium_path, customer,
                                                         settings, tmp_path):
    from playwright.sync_api import sync_playwright

    settings.MEDIA_ROOT = tmp_path
    staff = make_customer("staff@portal.example", first_name="Sam", last_name="Staff")
    staff.is_staff = staff.is_superuser = True
    staff.save()
    device = give_second_factor(staff)
    CannedAnswer.objects.create(title="Restart", body="Please restart your server.")
    place_order(customer, catalogue_product("web-hosting"))
    support_request = open_request(customer, attachments=[upload("log.txt", b"error 500")])
    support_request_note(support_request=support_request, staff_user=staff, body="Disk full?")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.add_init_script(LISTEN)
        page = context.new_page()
        violations = []
        page.on("console", lambda m: violations.append(m.text)
                if "Content Security Policy" in m.text or "CSP violation" in m.text else None)
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", staff.email)
        page.fill("#id_password", PASSWORD)
        page.click("main [type=submit]")
        page.wait_for_url(f"{live_server.url}/login/second-step/")
        page.fill("#id_code", totp_code(device))
        page.click("#second-step-form [type=submit]")
        page.wait_for_url(f"{live_server.url}/admin/")
        page.goto(f"{live_server.url}/admin/support/supportrequest/")
        shoot(page, "admin-queue")
        page.goto(f"{live_server.url}/admin/support/supportrequest/{support_request.pk}/change/")
        shoot(page, "admin-request")
        page.select_option("#id_canned_answer", label="Restart")
        page.fill("#id_body", "Then tell us.")
        page.click("[name=_save]")
        page.wait_for_selector(".messagelist .success")
        page.wait_for_timeout(200)
        context.close()
        browser.close()
    assert violations == []
    assert support_request.messages.filter(kind="reply").get().body.startswith("Please restart")
