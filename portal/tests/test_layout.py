"""What every page carries (skip link, the menu's current section, the footer with help,
support, languages and the legal notice), the language switcher, the error pages in the
customer's language, the logout confirmation and the result pages' headings."""

import re

import pytest
from django.test import Client, RequestFactory
from django.utils import translation
from django.views.defaults import server_error

from accounts.models import SecurityEvent


def main_heading(html):
    found = re.findall(r"<h1[^>]*>(.*?)</h1>", html, re.DOTALL)
    assert len(found) == 1, found
    return re.sub(r"<[^>]+>|\s+", " ", found[0]).strip()


def test_an_anonymous_page_has_a_skip_link_and_a_footer_that_leads_to_the_contact_form(client, db):
    html = client.get("/login/").content.decode()
    assert 'class="skip-link visually-hidden-focusable" href="#main"' in html
    assert 'id="main"' in html
    assert re.search(r'href="/contact/" id="footer-support"', html)
    assert 'href="/help/" id="footer-help"' in html
    assert 'href="/legal/" id="footer-legal"' in html
    for code in ("en", "es", "fr"):
        assert f'name="language" value="{code}"' in html
    assert 'aria-current="page">Log in</a>' in html


def test_a_customer_page_marks_its_section_and_leads_support_to_the_requests(customer_client):
    html = customer_client.get("/billing/invoices/").content.decode()
    current = re.findall(r'<a class="nav-link active" href="([^"]+)" aria-current="page">', html)
    assert current == ["/billing/invoices/"]
    assert re.search(r'href="/account/support/" id="footer-support"', html)
    # The NIC handle sits before the collapsing menu (in sight on a phone), never broken.
    before_menu = html.split('id="main-nav"')[0]
    assert re.search(r'class="[^"]*\bnic\b[^"]*" id="nic-handle">[a-z]{2}\d{6}-OVH<', before_menu)


def test_the_account_pages_mark_my_account(customer_client):
    html = customer_client.get("/account/security/").content.decode()
    assert re.search(r'id="account-menu"[^>]*\s+aria-current="page"', html)


def test_the_help_and_legal_pages_are_public_and_show_the_seller(client, db, settings):
    settings.SELLER_NAME = "Hébergeur Exemple SAS"
    settings.SELLER_VAT_NUMBER = "FR99999999999"
    legal = client.get("/legal/")
    assert legal.status_code == 200
    html = legal.content.decode()
    assert main_heading(html) == "Legal notice"
    assert "Hébergeur Exemple SAS" in html and "FR99999999999" in html
    assert main_heading(client.get("/help/").content.decode()) == "Help"


def test_the_language_switcher_changes_the_page_language_before_login(client, db):
    response = client.post("/language/", {"language": "fr", "next": "/login/"})
    assert response.status_code == 302 and response["Location"] == "/login/"
    html = client.get("/login/").content.decode()
    assert '<html lang="fr">' in html


def test_the_language_switcher_changes_a_customers_account_language(customer_client, customer):
    customer.language = "en"
    customer.save()
    response = customer_client.post("/language/", {"language": "es", "next": "/account/"})
    assert response["Location"] == "/account/"
    customer.refresh_from_db()
    assert customer.language == "es"
    assert customer.security_events.filter(action=SecurityEvent.Action.PROFILE_CHANGED).exists()
    assert '<html lang="es">' in customer_client.get("/account/").content.decode()


def test_the_language_switcher_refuses_an_unknown_language_and_a_foreign_next(customer_client, customer):
    customer.language = "en"
    customer.save()
    response = customer_client.post("/language/", {"language": "xx", "next": "https://evil.example/"})
    assert response.status_code == 302 and "evil" not in response["Location"]
    customer.refresh_from_db()
    assert customer.language == "en"
    assert customer_client.get("/language/").status_code == 405


def profile_data(customer, **changes):
    data = {name: getattr(customer, name) for name in (
        "first_name", "last_name", "legal_form", "organisation", "address", "zip", "city",
        "phone", "spare_email", "language")}
    data.update(country=str(customer.country), login_notifications="on", **changes)
    return data


def test_a_notice_queued_before_switching_language_is_not_shown_in_the_old_one(customer_client, customer):
    customer.language = "en"
    customer.save()
    # Saving nothing queues "Nothing was changed." (in English) for the next page...
    customer_client.post("/account/profile/edit/", profile_data(customer))
    # ...but the next request switches to French before any page shows it.
    response = customer_client.post("/language/", {"language": "fr", "next": "/account/"},
                                    follow=True)
    assert '<html lang="fr">' in response.content.decode()
    assert "Nothing was changed." not in response.content.decode()
    assert 'role="alert"' not in response.content.decode()


def test_saving_the_profile_in_another_language_says_so_in_that_language(customer_client, customer):
    customer.language = "en"
    customer.save()
    response = customer_client.post("/account/profile/edit/",
                                    profile_data(customer, language="es"), follow=True)
    customer.refresh_from_db()
    assert customer.language == "es"
    with translation.override("es"):
        expected = translation.gettext("Your information has been updated.")
    assert expected != "Your information has been updated."
    assert expected in response.content.decode()


@pytest.mark.parametrize("language, heading", [
    ("en", "Page not found"), ("es", None), ("fr", None)])
def test_the_404_page_is_branded_and_in_the_customers_language(customer_client, customer,
                                                               language, heading):
    customer.language = language
    customer.save()
    response = customer_client.get("/billing/invoices/FR1999-000001/")
    assert response.status_code == 404
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    with translation.override(language):
        assert main_heading(html) == (heading or translation.gettext("Page not found"))
    assert 'id="error-back" ' not in html and 'href="/account/" id="error-back"' in html
    assert 'id="site-footer"' in html


def test_a_404_for_a_visitor_leads_to_the_login_page(client, db):
    response = client.get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert 'href="/login/" id="error-back"' in html and 'href="/contact/"' in html


def test_a_get_on_a_post_only_address_shows_the_405_page(customer_client):
    response = customer_client.get("/account/email/cancel/")
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert main_heading(response.content.decode()) == "This address cannot be opened directly"


def test_the_403_page_is_branded(db):
    from django.contrib.auth.models import AnonymousUser
    from django.core.exceptions import PermissionDenied
    from django.views.defaults import permission_denied

    request = RequestFactory().get("/account/")
    request.user = AnonymousUser()
    response = permission_denied(request, PermissionDenied())  # Django's handler403
    assert response.status_code == 403
    html = response.content.decode()
    assert main_heading(html) == "Access denied"
    assert 'href="/login/" id="error-back"' in html


def test_a_form_posted_without_its_csrf_token_gets_the_expired_form_page(db):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403
    assert main_heading(response.content.decode()) == "The form has expired"


def test_the_500_page_renders_without_a_request_context(db):
    request = RequestFactory().get("/")
    with translation.override("es"):
        response = server_error(request)
        html = response.content.decode()
        assert main_heading(html) == translation.gettext("Something went wrong")
    assert response.status_code == 500
    assert '<html lang="es">' in html
    assert 'id="language-form"' not in html  # no CSRF token to post it with


def test_get_logout_asks_a_visitor_to_log_in(client, db):
    html = client.get("/logout/").content.decode()
    assert main_heading(html) == "You are logged out"
    assert 'href="/login/"' in html


@pytest.mark.parametrize("path", [
    "/signup/confirm/not-a-token/", "/account/email/refuse/not-a-token/",
    "/account/email/confirm/not-a-token/", "/account-recovery/cancel/not-a-token/",
    "/password-reset/done/", "/account-recovery/sent/", "/contact/sent/", "/signup/done/",
    "/reset/done/",
])
def test_every_result_page_has_a_heading_and_a_primary_action(client, db, path):
    response = client.get(path)
    html = response.content.decode()
    assert main_heading(html)
    main = html.split('id="main"')[1].split('id="site-footer"')[0]
    assert re.search(r'class="btn btn-primary[^"]*"', main), path


def test_a_refused_email_change_links_to_the_password_change(client, customer):
    from accounts import services

    change = services.email_change_request(user=customer, new_email="new@example.com")
    token = services.email_change_link_token(change, services.REFUSE_SALT)
    html = client.post(f"/account/email/refuse/{token}/").content.decode()
    assert main_heading(html) == "The email change is refused"
    assert re.search(r'class="btn btn-primary" href="/account/security/" id="result-action"', html)


def test_the_confirmation_page_keeps_the_nic_handle_on_one_line(client, db):
    from accounts.services import account_create, email_confirmation_token

    user = account_create(email="one.line@example.org", password="correct-horse-battery-42",
                          first_name="Inés", last_name="Núñez", send_confirmation=False)
    html = client.get(f"/signup/confirm/{email_confirmation_token(user)}/").content.decode()
    assert html.count(f'<span class="nic">{user.nic_handle}</span>') == 2
