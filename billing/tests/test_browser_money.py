"""The balance page, the invoice list with its credit notes and a credit note's page in
Chromium at 390 px, in each language: no sideways scrolling, no failed request.
SCREENSHOT_DIR keeps the screenshots."""

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from billing.models import Payment
from billing.services.credit_notes import credit_note_issue
from billing.services.payments import payment_record
from conftest import CHROMIUM_ARGS, make_customer

from .conftest import catalogue_product, place_order

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _scene(customer):
    """A paid invoice with an over-payment, a partly paid one, a credited one."""
    staff = make_customer("staff@example.com", first_name="Sam", last_name="Staff")
    hosting, domain = catalogue_product("web-hosting"), catalogue_product("domain-com")
    yesterday = timezone.now() - timedelta(days=1)
    _o, paid, _s = place_order(customer, hosting, name="a-rather-long-shop-name.example",
                               now=yesterday)
    payment_record(invoice=paid, amount=paid.total + Decimal("25.00"),
                   method=Payment.Method.BANK_TRANSFER, now=yesterday, staff_user=staff)
    _o, credited, _s = place_order(customer, domain, name="mistake.example", now=yesterday)
    note = credit_note_issue(invoice=credited, staff_user=staff, now=yesterday,
                             reason="Ordered twice by mistake")
    _o, partly, _s = place_order(customer, hosting, name="blog.example", now=timezone.now())
    payment_record(invoice=partly, amount=Decimal("10.00"), method=Payment.Method.BANK_TRANSFER,
                   now=timezone.now(), staff_user=staff)
    return note


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "es", "fr"])
def test_the_money_pages_fit_a_390_pixel_screen(chromium_path, live_server, customer, language):
    from playwright.sync_api import sync_playwright

    note = _scene(customer)
    customer.language = language
    customer.save(update_fields=["language"])
    client = Client()
    client.force_login(customer)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 390, "height": 844}, locale=language)
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "url": live_server.url,
                              "value": client.cookies[settings.SESSION_COOKIE_NAME].value}])
        page = context.new_page()
        errors = []
        page.on("response", lambda r: errors.append(r.url) if r.status >= 400
                and not r.url.endswith("/favicon.ico") else None)
        for name, path in (("balance", "/billing/balance/"), ("invoices", "/billing/invoices/"),
                           ("credit-note", f"/billing/invoices/{note.number}/")):
            page.goto(f"{live_server.url}{path}")
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, name
            if folder := os.environ.get("SCREENSHOT_DIR"):
                Path(folder).mkdir(parents=True, exist_ok=True)
                page.screenshot(path=f"{folder}/{name}-390-{language}.png", full_page=True)
        assert page.locator("#credit-note-nic-handle").inner_text() == customer.nic_handle
        assert errors == []
        browser.close()
