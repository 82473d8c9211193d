"""/account/contacts/ in Chromium at 390 px, in each language: no sideways scrolling,
and the buttons work without inline script. SCREENSHOT_DIR keeps the screenshots."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from billing.models import Service
from billing.services import contacts as services
from billing.services.invoices import invoice_mark_paid
from conftest import CHROMIUM_ARGS, make_customer

from .conftest import catalogue_product, place_order

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")



def _scene(customer, staff):
    """A service of the customer's, one where they are the technical contact of someone
    else's, a request sent and one to answer."""
    other = make_customer("olivia@example.net", first_name="Olivia", last_name="Other")
    hosting = catalogue_product("web-hosting")
    yesterday = timezone.now() - timedelta(days=1)
    mine = []
    for name in ("a-rather-long-shop-name.example", "blog.example"):
        _o, invoice, service = place_order(customer, hosting, name=name, now=yesterday)
        invoice_mark_paid(invoice=invoice, staff_user=staff)
        service.refresh_from_db()
        mine.append(service)
    _o, invoice, theirs = place_order(other, hosting, name="olivia.example", now=yesterday)
    invoice_mark_paid(invoice=invoice, staff_user=staff)
    Service.objects.filter(pk=theirs.pk).update(tech_contact=customer)
    sent = services.contact_change_request(service=mine[0], requester=customer,
                                           roles=["tech", "billing"],
                                           target_nic_handle=other.nic_handle)
    services.contact_change_process(change_id=sent.pk)
    theirs.refresh_from_db()
    received = services.contact_change_request(service=theirs, requester=other, roles=["tech"],
                                               target_nic_handle="zz123456-OVH")
    services.contact_change_process(change_id=received.pk)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "es", "fr"])
def test_the_contacts_page_fits_a_390_pixel_screen(chromium_path, live_server, customer,
                                                   language):
    from playwright.sync_api import sync_playwright

    staff = make_customer("staff@example.com", first_name="Sam", last_name="Staff")
    _scene(customer, staff)
    customer.language = language
    customer.save(update_fields=["language"])
    client = Client()
    client.force_login(customer)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 390, "height": 844},
                                      locale=language)
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "url": live_server.url,
                              "value": client.cookies[settings.SESSION_COOKIE_NAME].value}])
        page = context.new_page()
        errors = []
        page.on("response", lambda r: errors.append(r.url) if r.status >= 400
                and not r.url.endswith("/favicon.ico") else None)
        page.goto(f"{live_server.url}/account/contacts/")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        if folder := os.environ.get("SCREENSHOT_DIR"):
            Path(folder).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{folder}/contacts-390-{language}.png", full_page=True)
        page.click("#received-requests button.btn-success")
        page.wait_for_load_state()
        assert page.locator(".alert-success").count() == 1
        assert errors == []
        context.close()
        browser.close()
