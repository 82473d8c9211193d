"""Every page in Chromium at 1366 px and 390 px: a screenshot per page and width under
var/test-artifacts/ (the path is printed), no sideways scroll, the NIC handle in sight on
customer pages, and no critical or serious axe-core violation, on the customer pages, the
public pages, the error pages and the admin pages support agents use."""

import os

import pytest
from django.test import Client

from billing.tests.conftest import catalogue_product, place_order
from conftest import CHROMIUM_ARGS, make_customer, prove_password, staff_log_in
from notifications.models import OutboundEmail
from portal.tests.browser import PageAudit, artefacts_dir, require_axe, session_cookie
from support.tests.conftest import open_request

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PUBLIC_PAGES = [
    ("/login/", "login"), ("/signup/", "signup"), ("/signup/done/", "signup-done"),
    ("/password-reset/", "password-reset"), ("/password-reset/done/", "password-reset-done"),
    ("/account-recovery/", "account-recovery"), ("/account-recovery/sent/", "account-recovery-sent"),
    ("/contact/", "contact"), ("/contact/sent/", "contact-sent"), ("/legal/", "legal"),
    ("/help/", "help"),
]


def customer_pages(invoice, order, support_request, email):
    return [
        ("/account/", "dashboard"), ("/account/profile/", "profile"),
        ("/account/profile/edit/", "profile-edit"), ("/account/email/", "email-change"),
        ("/account/emails/", "emails"), (f"/account/emails/{email.pk}/", "email-detail"),
        ("/account/security/", "security"), ("/account/security/keys/", "security-keys"),
        ("/account/contacts/", "contacts"), ("/account/support/", "support"),
        ("/account/support/new/", "support-new"),
        (f"/account/support/{support_request.number}/", "support-request"),
        ("/billing/services/", "services"), ("/billing/orders/", "orders"),
        ("/billing/orders/new/", "order-new"), (f"/billing/orders/{order.pk}/", "order"),
        ("/billing/invoices/", "invoices"), (f"/billing/invoices/{invoice.number}/", "invoice"),
        ("/legal/", "legal-logged-in"), ("/help/", "help-logged-in"), ("/logout/", "logout-confirm"),
    ]


def support_group():
    """The "Support" group as its data migrations make it: a transactional test that ran
    before this one may have emptied the tables."""
    import importlib

    from django.contrib.auth.models import Group
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    if not Group.objects.filter(name="Support").exists():
        state_apps = MigrationExecutor(connection).loader.project_state().apps
        for module, function in [("accounts.migrations.0006_support_group", "create_support_group"),
                                 ("support.migrations.0002_support_group_permissions", "grant"),
                                 ("billing.migrations.0008_support_contact_changes", "grant")]:
            getattr(importlib.import_module(module), function)(state_apps, None)
    return Group.objects.get(name="Support")


@pytest.fixture
def browser_context(chromium_path):
    """A Chromium context that lets axe-core's script in despite the pages' CSP."""
    from playwright.sync_api import sync_playwright

    require_axe()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="es-ES", bypass_csp=True)
        yield context
        context.close()
        browser.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_every_page_fits_a_phone_shows_the_nic_handle_and_passes_axe(
        live_server, browser_context, customer, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    customer.language = "es"
    customer.save()
    order, invoice, service = place_order(customer, catalogue_product("web-hosting"),
                                          name="a-rather-long-domain-name-for-a-phone.com")
    support_request = open_request(customer, service=service, invoice=invoice)
    email = OutboundEmail.objects.create(
        user=customer, kind="account_created", to_address=customer.email, language="es",
        subject="Bienvenido", body_text="Hola", body_html="<p>Hola</p>")

    folder = artefacts_dir("layout")
    page = browser_context.new_page()
    audit = PageAudit(page, folder, nic_handle=customer.nic_handle)
    for path, name in PUBLIC_PAGES:
        audit.visit(f"{live_server.url}{path}", f"public-{name}", nic=False)
    audit.visit(f"{live_server.url}/signup/confirm/not-a-token/", "public-confirm-invalid",
                nic=False, status=400)
    audit.visit(f"{live_server.url}/no-such-page/", "error-404", nic=False, status=404)

    client = Client()
    client.force_login(customer)
    prove_password(client)
    browser_context.add_cookies([session_cookie(live_server, client)])
    for path, name in customer_pages(invoice, order, support_request, email):
        audit.visit(f"{live_server.url}{path}", name)
    audit.visit(f"{live_server.url}/billing/invoices/FR1999-999999/", "error-404-logged-in",
                status=404)

    browser_context.clear_cookies()
    agent = make_customer("agent@portal.example", first_name="Alex", last_name="Agent")
    agent.is_staff = True
    agent.save()
    agent.groups.add(support_group())
    browser_context.add_cookies([session_cookie(live_server, staff_log_in(Client(), agent))])
    for path, name in [
        ("/admin/", "admin-index"),
        (f"/admin/accounts/user/?q={customer.nic_handle}", "admin-customers"),
        (f"/admin/accounts/user/{customer.pk}/change/", "admin-customer"),
        ("/admin/notifications/outboundemail/", "admin-outbox"),
        (f"/admin/notifications/outboundemail/{email.pk}/change/", "admin-outbox-email"),
        ("/admin/support/supportrequest/", "admin-support-queue"),
        (f"/admin/support/supportrequest/{support_request.pk}/change/", "admin-support-request"),
    ]:
        audit.visit(f"{live_server.url}{path}", name, nic=False)

    # A superuser's view of the customer page has more fields (groups, permissions).
    browser_context.clear_cookies()
    from conftest import make_customer as make_staff

    root = make_staff("root@portal.example", first_name="Rosa", last_name="Root")
    root.is_staff = root.is_superuser = True
    root.save()
    browser_context.add_cookies([session_cookie(live_server, staff_log_in(Client(), root))])
    audit.visit(f"{live_server.url}/admin/accounts/user/{customer.pk}/change/",
                "admin-customer-superuser", nic=False)

    audit.report()
    assert audit.failures() == []
