"""An invoice's lines, payments and credit notes, and a long balance, in Chromium at
390 px in each language: no sideways scrolling. SCREENSHOT_DIR keeps the screenshots."""

import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from billing.models import Payment
from billing.services.credit_notes import credit_note_issue
from billing.services.payments import payment_record

from .conftest import bulk_invoices, phone_page, place_order

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def page_width(page):
    return page.evaluate("document.documentElement.scrollWidth")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "es", "fr"])
def test_settlement_and_a_long_balance_fit_a_390_pixel_screen(chromium_path, live_server,
                                                              customer, hosting, staff,
                                                              language):
    from playwright.sync_api import sync_playwright

    customer.language = language
    customer.save(update_fields=["language"])
    _o, invoice, _s = place_order(customer, hosting)
    payment_record(invoice=invoice, amount=Decimal("20.00"), method=Payment.Method.BANK_TRANSFER,
                   staff_user=staff, now=timezone.now())
    credit_note_issue(invoice=invoice, staff_user=staff, reason="Duplicate", now=timezone.now())
    bulk_invoices(customer, 30, start=100)
    shots = Path(os.environ.get("SCREENSHOT_DIR", "/tmp/portal-screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        page = phone_page(playwright, chromium_path=chromium_path, live_server=live_server,
                          user=customer)
        page.goto(f"{live_server.url}/billing/invoices/{invoice.number}/")
        settlement = page.locator("#invoice-settlement")
        assert settlement.is_visible()
        settlement.screenshot(path=shots / f"invoice-settlement-{language}.png")
        assert page_width(page) <= 390
        # The lines stack as cards: nothing to scroll sideways inside the document either.
        region = page.locator(".invoice-scroll")
        assert region.evaluate("element => element.scrollWidth <= element.clientWidth")
        page.locator(".inv-lines").screenshot(path=shots / f"invoice-lines-{language}.png")
        page.goto(f"{live_server.url}/billing/balance/")
        more = page.locator("#balance-unpaid-more")
        assert more.is_visible() and "30" in more.inner_text()
        page.screenshot(path=shots / f"balance-long-{language}.png", full_page=True)
        assert page_width(page) <= 390
