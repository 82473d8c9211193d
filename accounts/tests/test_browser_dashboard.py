"""The dashboard and the order pages at 390 px, in English, Spanish and French: nothing
wider than the screen, the NIC handle and the dashboard's actions in the page's language,
no script or style the Content-Security-Policy blocks. SHOTS_DIR=... keeps screenshots."""

import os
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import SecurityEvent
from billing.models import Invoice, Service
from billing.tests.conftest import catalogue_product, place_order
from conftest import CHROMIUM_ARGS, PASSWORD

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

SHOTS = os.environ.get("SHOTS_DIR", "")
WORDS = {"en": "To pay", "es": "A pagar", "fr": "À payer"}


@pytest.fixture
def narrow_page(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 390, "height": 844})
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
def test_the_dashboard_and_order_pages_fit_390_px(live_server, narrow_page, customer,
                                                   settings, tmp_path, language):
    settings.MEDIA_ROOT = tmp_path
    page, problems = narrow_page
    customer.language = language
    customer.save()
    hosting, domain = catalogue_product("web-hosting"), catalogue_product("domain-com")
    order, _invoice, _service = place_order(customer, hosting, name="una-tienda-larga.example")
    _order, paid, service = place_order(customer, domain, name="daniel-martin.com")
    Invoice.objects.filter(pk=paid.pk).update(paid_at=timezone.now())
    Service.objects.filter(pk=service.pk).update(
        status=Service.Status.ACTIVE, auto_renew=False,
        expires_at=timezone.now() + timedelta(days=10))
    SecurityEvent.objects.create(user=customer, action=SecurityEvent.Action.LOGIN,
                                 ip_address="2001:db8::1")
    base = live_server.url
    page.goto(f"{base}/login/")
    page.fill("#id_username", customer.nic_handle)
    page.fill("#id_password", PASSWORD)
    page.click("#login-form [type=submit]")
    page.wait_for_url(f"{base}/account/")
    fits(page, f"dashboard-{language}-390.png")
    assert page.locator("#dashboard-amount-due").is_visible()
    assert page.locator(f"#dashboard-service-{service.pk} form button").is_visible()

    page.goto(f"{base}/billing/orders/new/")
    fits(page, f"order-new-{language}-390.png")
    page.check(f"input[name=product][value='{hosting.pk}']")
    page.fill("input[name=service_name]", "otra-tienda-con-un-nombre-largo.example")
    page.click("#order-form [type=submit]")
    page.wait_for_selector("#confirm-order")
    fits(page, f"order-confirm-{language}-390.png")
    page.goto(f"{base}/billing/orders/")
    fits(page, f"orders-{language}-390.png")
    page.goto(f"{base}/billing/orders/{order.pk}/")
    fits(page, f"order-{language}-390.png")
    assert problems == []
