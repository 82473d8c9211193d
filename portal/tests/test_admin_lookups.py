"""Admin list pages take only the query parameters they offer: their filters, their date
hierarchy, search, ordering and paging. Anything else is refused (400), so nobody filters
on a column the page does not show (the password hash, say); a bad value for an offered
parameter gives the admin's "?e=1" page, never a server error."""

import io
import re
from html import unescape

import pytest
from django.contrib import admin
from django.core import checks
from django.test import Client

from conftest import staff_log_in
from django.urls import reverse
from django.utils import timezone

from accounts.models import SecurityEvent, User
from billing import references
from billing.services.credit_notes import credit_note_issue
from billing.services.invoices import invoice_mark_paid
from billing.services.reconciliation import statement_import
from billing.tests.camt_builder import Credit, statement
from billing.tests.conftest import catalogue_product, place_order
from notifications.delivery import email_deliver
from notifications.services import email_queue
from portal.admin import PortalModelAdmin

pytestmark = pytest.mark.django_db

PROJECT_APPS = ("accounts", "billing", "notifications")


def project_admins():
    return [model_admin for model, model_admin in admin.site._registry.items()
            if model._meta.app_label in PROJECT_APPS]


def list_url(model_admin):
    opts = model_admin.model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")


def admin_id(model_admin):
    return model_admin.model._meta.label


WITH_DATE_HIERARCHY = [m for m in project_admins() if m.date_hierarchy]


@pytest.fixture
def lenient_client(superuser):
    """A superuser's client that returns a server error as a 500 page instead of raising."""
    return staff_log_in(Client(raise_request_exception=False), superuser)


@pytest.fixture
def rows(settings, tmp_path, customer, other_customer, support_agent, superuser):
    """Something in every list: accounts, log lines, emails, orders with their invoices
    (one paid: its service is delivered), a credit note, a bank statement."""
    settings.MEDIA_ROOT = tmp_path / "media"
    other_customer.is_active = False
    other_customer.save(update_fields=["is_active"])
    sent = email_queue(template="account_created", to=customer.email, user=customer,
                       secrets={"confirm_url": "http://portal.test/signup/confirm/x/"})
    email_deliver(email_id=sent.pk)
    email_queue(template="account_created", to=other_customer.email, user=other_customer,
                secrets={"confirm_url": "http://portal.test/signup/confirm/y/"})
    _order, paid, _service = place_order(customer, catalogue_product("web-hosting"))
    invoice_mark_paid(invoice=paid, staff_user=superuser)
    _order, unpaid, _service = place_order(customer, catalogue_product("domain-com"),
                                           name="example.org")
    # A credit note, and a bank statement with a partial and an unmatched credit entry.
    credit_note_issue(invoice=paid, staff_user=superuser, reason="Goodwill", now=timezone.now())
    content = statement([Credit("5.00", "BANK-1", structured=references.reference_for(
        unpaid.number, customer.nic_handle)), Credit("3.00", "BANK-2", unstructured="?")])
    statement_import(stream=io.BytesIO(content), size=len(content), file_name="s.xml",
                     staff_user=superuser, now=timezone.now())


def assert_refused_or_flagged(response):
    """A 400, or the admin's redirect to "?e=1" ("incorrect lookup parameters")."""
    assert response.status_code in (302, 400), (response.request["QUERY_STRING"],
                                                response.status_code)
    if response.status_code == 302:
        assert response["Location"].endswith("?e=1")


def test_every_project_admin_takes_only_the_parameters_it_offers():
    assert len(project_admins()) >= 10
    for model_admin in project_admins():
        assert isinstance(model_admin, PortalModelAdmin), admin_id(model_admin)


@pytest.mark.parametrize("who", ["agent_client", "superuser_client"])
@pytest.mark.parametrize("query", [
    {"password__startswith": "argon2"}, {"password__gte": "m"}, {"password": "x"},
    {"password__regex": "^a"}, {"password__isnull": "0"},
])
def test_nobody_filters_customers_on_their_password_hash(request, who, query, customer):
    response = request.getfixturevalue(who).get("/admin/accounts/user/", query)
    assert response.status_code == 400


@pytest.mark.parametrize("url, query", [
    ("/admin/accounts/user/", {"first_name__regex": "("}),
    ("/admin/accounts/user/", {"email__endswith": "example.org"}),
    ("/admin/accounts/user/", {"date_joined__year": "99999", "date_joined__month": "13"}),
    ("/admin/accounts/user/", {"groups__name": "Support"}),
    ("/admin/accounts/emailchangerequest/", {"code_hash__startswith": "a"}),
    ("/admin/accounts/securityevent/", {"user__password__startswith": "a"}),
    ("/admin/notifications/outboundemail/", {"body_text__contains": "reset"}),
    ("/admin/billing/invoice/", {"customer__email__startswith": "d"}),
])
def test_a_filter_the_page_does_not_offer_is_refused(agent_client, superuser_client, rows,
                                                      url, query):
    for client in (agent_client, superuser_client):
        assert client.get(url, query).status_code == 400


BAD_DATES = [
    {"__year": "99999", "__month": "13"}, {"__year": "9999"}, {"__year": "9999", "__month": "12"},
    {"__year": "9999", "__month": "12", "__day": "31"}, {"__year": "0"}, {"__year": "abc"},
    {"__year": "2026", "__month": "2", "__day": "30"}, {"__year": "2026", "__month": "-1"},
    {"__year": "1" + "0" * 30},
]


@pytest.mark.parametrize("model_admin", WITH_DATE_HIERARCHY, ids=admin_id)
def test_a_bad_date_in_a_date_hierarchy_is_never_a_server_error(lenient_client, model_admin):
    for dates in BAD_DATES:
        query = {model_admin.date_hierarchy + part: value for part, value in dates.items()}
        assert_refused_or_flagged(lenient_client.get(list_url(model_admin), query))


@pytest.mark.parametrize("url, query", [
    ("/admin/accounts/user/", {"is_active__exact": "maybe"}),
    ("/admin/accounts/user/", {"date_joined__gte": "notadate"}),
    ("/admin/accounts/user/", {"date_joined__lt": "99999-01-01"}),
    ("/admin/accounts/user/", {"legal_form__exact": "x" * 100}),
    ("/admin/notifications/outboundemail/", {"created_at__day": "abc"}),
    ("/admin/billing/invoice/", {"year": "abc"}),
    ("/admin/billing/invoice/", {"year": "1" + "0" * 30}),
    ("/admin/billing/invoice/", {"paid_at__isempty": "maybe"}),
    ("/admin/billing/service/", {"product__id__exact": "abc"}),
    ("/admin/billing/service/", {"product__id__exact": "1" + "0" * 30}),
])
def test_a_bad_value_for_an_offered_filter_is_never_a_server_error(lenient_client, rows, url,
                                                                   query):
    response = lenient_client.get(url, query)
    assert response.status_code != 500
    if response.status_code != 200:
        assert_refused_or_flagged(response)


@pytest.mark.parametrize("url, query", [
    ("/admin/accounts/emailchangerequest/", {"state__exact": "\x00"}),
    ("/admin/billing/invoice/", {"kind__exact": "renewal\x00"}),
    ("/admin/billing/statemententry/", {"outcome__exact": "\x00"}),
    ("/admin/support/supportrequest/", {"status__exact": "open\x00"}),
    ("/admin/support/supportrequest/", {"category__exact": "\x00"}),
    ("/admin/support/contactmessage/", {"category__exact": ["billing", "\x00"]}),
])
def test_a_nul_in_a_filter_value_gets_the_error_flag_not_a_500(lenient_client, rows, url, query):
    # Regression: on PostgreSQL the list's query failed on the NUL (a 500).
    response = lenient_client.get(url, query)
    assert response.status_code == 302 and response["Location"].endswith("?e=1")
    assert lenient_client.get(url, {**query, "e": "1"}).status_code == 200


def test_the_offered_filters_still_filter(superuser_client, rows, customer, other_customer):
    active = superuser_client.get("/admin/accounts/user/", {"is_active__exact": "1"})
    assert customer.nic_handle in active.content.decode()
    assert other_customer.nic_handle not in active.content.decode()
    inactive = superuser_client.get("/admin/accounts/user/", {"is_active__exact": "0"})
    assert [u.pk for u in inactive.context["cl"].result_list] == [other_customer.pk]

    sent = superuser_client.get("/admin/notifications/outboundemail/", {"status__exact": "sent"})
    assert [e.status for e in sent.context["cl"].result_list] == ["sent"]

    year = SecurityEvent.objects.earliest("created_at").created_at.year
    log = superuser_client.get("/admin/accounts/securityevent/", {"created_at__year": year})
    assert len(log.context["cl"].result_list) == SecurityEvent.objects.count()
    later = superuser_client.get("/admin/accounts/securityevent/", {"created_at__year": year + 1})
    assert list(later.context["cl"].result_list) == []

    unpaid = superuser_client.get("/admin/billing/invoice/", {"paid_at__isempty": "1"})
    assert len(unpaid.context["cl"].result_list) == 1


@pytest.mark.parametrize("who", ["agent_client", "superuser_client"])
def test_search_ordering_paging_and_the_error_flag_still_work(request, who, rows, customer):
    client = request.getfixturevalue(who)
    for query in ({"q": customer.nic_handle}, {"o": "-2"}, {"p": "1"}, {"all": ""},
                  {"e": "1"}, {"_facets": "1"}, {"q": "x", "o": "1", "is_staff__exact": "0"}):
        assert client.get("/admin/accounts/user/", query).status_code == 200, query


@pytest.mark.parametrize("model_admin", project_admins(), ids=admin_id)
def test_every_link_a_list_page_offers_works(superuser_client, rows, model_admin):
    """Filters, date hierarchy, sorting and facet links, one level deep; then the date
    hierarchy down to a day."""
    url = list_url(model_admin)
    page = superuser_client.get(url)
    assert page.status_code == 200
    links = {unescape(href) for href in re.findall(r'href="(\?[^"]*)"', page.content.decode())}
    assert links
    for link in links:
        assert superuser_client.get(url + link).status_code == 200, link
    if model_admin.date_hierarchy:
        row = model_admin.model._default_manager.exclude(**{model_admin.date_hierarchy: None}).first()
        if row is not None:
            when = getattr(row, model_admin.date_hierarchy)
            query = {f"{model_admin.date_hierarchy}__{part}": getattr(when, part)
                     for part in ("year", "month", "day")}
            response = superuser_client.get(url, query)
            assert response.status_code == 200
            assert row in response.context["cl"].result_list


def test_a_list_filter_or_search_on_a_password_fails_the_system_checks():
    class Leaky(PortalModelAdmin):
        search_fields = ("nic_handle", "=password")

    class Leakier(PortalModelAdmin):
        list_filter = ("is_active", "password")

    for admin_class in (Leaky, Leakier):
        errors = admin_class(User, admin.site).check()
        assert [e.id for e in errors if e.level >= checks.ERROR] == ["portal.E001"]


@pytest.mark.parametrize("url", [
    "/admin/auth/group/?name__regex=(",
    "/admin/auth/group/?permissions__codename__startswith=change",
    "/admin/axes/accessattempt/?attempt_time__year=9999",
    "/admin/axes/accessattempt/?username__regex=(",
    "/admin/axes/accesslog/?attempt_time__year=99999&attempt_time__month=13",
])
def test_the_admins_of_other_apps_take_only_the_parameters_they_offer(lenient_client, url):
    response = lenient_client.get(url)
    assert_refused_or_flagged(response)


@pytest.mark.parametrize("selected", ["", "x", "1.5", "\x00", "1 OR 1=1"])
@pytest.mark.parametrize("url,action", [("/admin/accounts/user/", "send_password_reset"),
                                        ("/admin/notifications/outboundemail/", "resend"),
                                        ("/admin/billing/invoice/", "mark_paid")])
def test_an_action_on_a_selected_row_that_is_no_id_is_a_400(agent_client, url, action, selected):
    """Django's admin filters on the posted ids as they are: a forged one was a 500."""
    agent_client.raise_request_exception = False
    response = agent_client.post(url, {"action": action, "_selected_action": [selected]})
    assert response.status_code == 400
