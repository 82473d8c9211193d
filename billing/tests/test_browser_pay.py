"""The invoice list, an invoice and its pay page in Chromium at 390 px, in each language:
no sideways scrolling of the page, the EPC QR code loads under the Content-Security-Policy.
SCREENSHOT_DIR keeps the screenshots."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from billing.services.invoices import invoice_mark_paid
from conftest import make_customer

from .conftest import catalogue_product, phone_page, place_order

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "es", "fr"])
def test_the_pay_pages_fit_a_390_pixel_screen(chromium_path, live_server, customer, language):
    from playwright.sync_api import sync_playwright

    staff = make_customer("staff@example.com", first_name="Sam", last_name="Staff")
    hosting = catalogue_product("web-hosting")
    now = timezone.now()
    _o, overdue, _s = place_order(customer, hosting, name="late-shop.example",
                                  now=now - timedelta(days=20))
    _o, paid, _s = place_order(customer, hosting, name="paid.example", now=now - timedelta(days=5))
    invoice_mark_paid(invoice=paid, staff_user=staff)
    _o, unpaid, _s = place_order(customer, hosting, name="a-rather-long-shop-name.example",
                                 now=now - timedelta(days=1))
    customer.language = language
    customer.save(update_fields=["language"])
    with sync_playwright() as playwright:
        page = phone_page(playwright, chromium_path=chromium_path, live_server=live_server,
                          user=customer)
        errors, refused = [], []
        page.on("response", lambda r: errors.append(r.url) if r.status >= 400
                and not r.url.endswith("/favicon.ico") else None)
        page.on("console", lambda m: refused.append(m.text)
                if "Content Security Policy" in m.text else None)
        folder = os.environ.get("SCREENSHOT_DIR")
        for name, path in (("list", "/billing/invoices/"),
                           ("invoice", f"/billing/invoices/{unpaid.number}/"),
                           ("pay", f"/billing/invoices/{unpaid.number}/pay/"),
                           ("pay-overdue", f"/billing/invoices/{overdue.number}/pay/"),
                           ("pay-paid", f"/billing/invoices/{paid.number}/pay/")):
            page.goto(f"{live_server.url}{path}")
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, name
            if folder:
                Path(folder).mkdir(parents=True, exist_ok=True)
                page.screenshot(path=f"{folder}/billing-{name}-390-{language}.png",
                                full_page=True)
            if name.startswith("pay") and name != "pay-paid":
                assert page.evaluate(
                    "document.getElementById('transfer-qr').naturalWidth") > 0
        page.goto(f"{live_server.url}/billing/invoices/")
        page.click(f'a[href="/billing/invoices/{overdue.number}/pay/"]')
        page.wait_for_load_state()
        assert page.url.endswith(f"/billing/invoices/{overdue.number}/pay/")
        assert errors == [] and refused == []
