"""Forms speak with the app's own messages, in the page's language: `novalidate` on
every form (the browser's required pop-ups would speak the browser's language), help
text that does not repeat the error, one signup tip, the country suggested from the
language, the primary action first."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.models import EmailChangeRequest
from conftest import prove_password, signup_data

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"
# base.html (the log-out button, no field) belongs to the layout.
SKIPPED = {"base.html"}


def forms_of(html):
    return re.findall(r"<form\b[^>]*>", html)


def test_every_form_in_the_templates_is_novalidate():
    missing = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        if path.name in SKIPPED or "emails" in path.parts:
            continue
        missing += [f"{path.relative_to(TEMPLATES)}: {tag}" for tag in forms_of(path.read_text())
                    if "novalidate" not in tag]
    assert missing == []


def page_form(html, form_id):
    return next(tag for tag in forms_of(html) if f'id="{form_id}"' in tag)


@pytest.mark.parametrize("url, form_id", [
    ("/signup/", "signup-form"), ("/login/", "login-form"),
    ("/password-reset/", "password-reset-form"), ("/account-recovery/", "recovery-form"),
])
def test_the_forms_drawn_by_crispy_are_novalidate_too(client, url, form_id):
    assert "novalidate" in page_form(client.get(url).content.decode(), form_id)


@pytest.mark.parametrize("url, form_id", [("/account/profile/edit/", "profile-form"),
                                          ("/billing/orders/new/", "order-form")])
def test_customer_forms_are_novalidate(customer_client, url, form_id):
    assert "novalidate" in page_form(customer_client.get(url).content.decode(), form_id)


@pytest.mark.parametrize("language, message", [
    ("en", "This field is required."),
    ("es", "Este campo es obligatorio."),
    ("fr", "Ce champ est obligatoire."),
])
def test_a_required_field_left_empty_shows_the_apps_message(client, language, message):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    page = client.post("/signup/", signup_data(first_name="", language=language)).content.decode()
    assert message in page
    assert 'id="error_1_id_first_name"' in page or "invalid-feedback" in page


def test_the_phone_help_does_not_repeat_the_error(client):
    page = client.post("/signup/", signup_data(phone="12")).content.decode()
    assert "not valid in international format" in page
    assert page.count("+33 1 23 45 67 89") == 1  # the help's example, once


def test_the_signup_tip_appears_once(client):
    page = client.get("/signup/").content.decode()
    assert page.count("not tied to your own domain") == 1


@pytest.mark.parametrize("language, country", [("es", "ES"), ("fr", "FR"), ("en", "")])
def test_the_country_is_suggested_from_the_language(client, language, country):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    page = client.get("/signup/").content.decode()
    selected = re.search(r'<option value="([A-Z]*)" selected>', page[page.index('name="country"'):])
    assert (selected.group(1) if selected else "") == country


def test_accept_comes_first_with_cancel_beside_it(customer_client):
    page = customer_client.get("/account/profile/edit/").content.decode()
    actions = page[page.index('name="submit"') - 200:]
    assert actions.index("Accept") < actions.index("Cancel")
    assert 'class="d-flex flex-wrap gap-2"' in page[page.index("Accept") - 300:page.index("Accept")]


def test_a_pending_change_shows_no_second_full_form_until_asked(customer_client, customer):
    EmailChangeRequest.objects.create(
        user=customer, old_email=customer.email, new_email="new@example.org", code_hash="x",
        due_at=timezone.now() + timedelta(hours=24), created_at=timezone.now())
    prove_password(customer_client)
    page = customer_client.get("/account/email/").content.decode()
    assert '<details class="card" id="another-change">' in page  # closed
    assert "Ask for a different change</summary>" in page


def test_the_flash_message_is_in_the_language_just_chosen(customer_client, customer):
    customer.language = "en"
    customer.save()
    data = {name: getattr(customer, name) for name in (
        "first_name", "last_name", "legal_form", "organisation", "address", "zip", "city",
        "country", "phone", "spare_email")}
    data.update(language="es", login_notifications="on", submit="Accept")
    page = customer_client.post("/account/profile/edit/", data, follow=True).content.decode()
    assert "Your information has been updated." not in page
    assert 'lang="es"' in page
