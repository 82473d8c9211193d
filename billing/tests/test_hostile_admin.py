"""Whatever an agent who handles money posts to the credit note form or uploads as a bank
statement (not XML, too big, DTDs and entity bombs, another namespace, broken UTF-8,
entries with hostile amounts, dates, currencies and text), and whatever the money lists'
query strings carry, the admin answers a page (with the reason in the form) or a 4xx,
never a 500; a refused statement records nothing. Property tests: see
portal/tests/hostile.py for what they send."""

from urllib.parse import quote

import pytest
from django.contrib.auth.models import Permission
from hypothesis import given
from hypothesis import strategies as st

from billing import references
from billing.models import BankStatement, CreditNote, Invoice, StatementEntry
from conftest import staff_log_in
from portal.tests.hostile import (
    Upload,
    assert_no_server_error,
    browser,
    encodings,
    example,
    form_data,
    hostile_file_content,
    hostile_file_name,
    hostile_text,
    logged_in,
    path_segment,
    post,
)

from .camt_builder import NAMESPACE, TAIL, Credit, entry_xml, head, statement
from .conftest import place_order

pytestmark = pytest.mark.django_db

MONEY_PERMISSIONS = ["add_creditnote", "view_creditnote", "view_payment", "view_creditmovement",
                     "import_bankstatement", "view_bankstatement", "view_statemententry"]


@pytest.fixture
def money_agent(support_agent):
    """A support agent who may also issue credit notes and import bank statements."""
    support_agent.user_permissions.add(*Permission.objects.filter(codename__in=MONEY_PERMISSIONS))
    return support_agent


def agent(user):
    return staff_log_in(browser(), user)


def test_the_credit_note_form_never_fails_on_hostile_input(customer, other_customer, hosting,
                                                           money_agent):
    invoice = place_order(customer, hosting)[1]
    other_line = place_order(other_customer, hosting)[1].lines.get()

    @given(data=form_data({"lines": [str(invoice.lines.get().pk)],
                           "reason": "Duplicate order"}),
           other=st.booleans(), encoding=encodings)
    def check(data, other, encoding):
        if other:  # a line of another invoice is no choice
            data["lines"] = [str(other_line.pk)]
        url = f"/admin/billing/invoice/{invoice.pk}/credit-note/"
        with example():
            client = agent(money_agent)
            response = assert_no_server_error(post(client, url, data, encoding), url)
            if other:
                assert not CreditNote.objects.exists()
            if response.status_code == 302:  # issued: every page that shows it still works
                note = CreditNote.objects.get()
                for page in (f"/admin/billing/invoice/{invoice.pk}/change/",
                             f"/admin/billing/creditnote/{note.pk}/change/",
                             "/admin/billing/creditnote/", "/admin/billing/creditmovement/"):
                    assert client.get(page).status_code == 200, page
                customer_client = logged_in(customer)
                for page in ("/billing/invoices/", f"/billing/invoices/{note.number}/",
                             "/billing/balance/"):
                    assert customer_client.get(page).status_code == 200, page

    check()


# An entry's amount, currency, date and texts as a bank's file could carry them.
AMOUNTS = ["10.00", "0.01", "0", "-5.00", "1E+30", "1e999999", "99999999999999999999.99",
           "0.001", "NaN", "Infinity", "-0", "1,00", " 12.00 ", "", "١٢", "12.0000000000001"]
DATES = ["2026-03-12", "2026-02-30", "0000-00-00", "9999-12-31", "", "2026-03-12T25:00:00",
         "yesterday"]

# Statements no bank writes. The strings are bytes as uploaded.
BOMB = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(b'<!ENTITY lol%d "%s">' % (n, (b"&lol%d;" % (n - 1) if n else b"&lol;") * 10)
                   for n in range(1, 10))
        + b']><Document xmlns="' + NAMESPACE.encode() + b'">&lol9;</Document>')
HOSTILE_STATEMENTS = [
    b"", b"\x00", b"definitely, not; xml", b"<", b"<?xml version='1.0'?>", BOMB,
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    b'<Document xmlns="' + NAMESPACE.encode() + b'">&e;</Document>',
    b'<?xml version="1.0"?><!DOCTYPE x SYSTEM "http://127.0.0.1:9/x.dtd"><x/>',
    statement([Credit("10.00", "B-1")]).replace(NAMESPACE.encode(), b"urn:example:other"),
    statement([Credit("10.00", "B-1")]).replace(NAMESPACE.encode(),
                                                b"urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"),
    statement([Credit("10.00", "B-1")]).replace(b' xmlns="' + NAMESPACE.encode() + b'"', b""),
    statement([Credit("10.00", "Dani\u00e9l")]).replace("\u00e9".encode(), b"\xc3\x28"),
    statement([Credit("10.00", "B-1")]).replace(b'encoding="UTF-8"', b'encoding="UTF-16"'),
    statement([Credit("10.00", "B-1")]).replace(b'encoding="UTF-8"', b'encoding="nonsense"'),
    statement([Credit("10.00", "B-1")])[:-40],  # cut short
    statement([Credit("10.00", "B-1")]).decode().encode("utf-16"),
    b"\xef\xbb\xbf" + statement([Credit("10.00", "B-1")]),
    (head("DEEP") + "<AddtlNtryInf>" * 50_000 + "</AddtlNtryInf>" * 50_000 + TAIL).encode(),
    (head("WIDE") + "".join(entry_xml(Credit("0.01", f"W-{n}")) for n in range(2000))
     + TAIL).encode(),
    statement([]), statement([Credit("10.00", "B-1", credit=False)]),
    *(statement([Credit(amount, "B-1")]) for amount in AMOUNTS),
    *(statement([Credit("10.00", "B-1", booked_on=date)]) for date in DATES),
    *(statement([Credit("10.00", "B-1", currency=currency)]) for currency in ["", "eur", "€"]),
    statement([Credit("10.00", "B-1")], message_id=""), statement([Credit("10.00", "B-1")] * 2),
    statement([Credit("10.00", "")]), statement([Credit("10.00", "B-1", status="PDNG")]),
]

hostile_entry = st.builds(
    Credit, amount=st.one_of(st.sampled_from(AMOUNTS), hostile_text),
    bank_reference=st.one_of(st.just("BANK-1"), hostile_text),
    structured=st.one_of(st.just(""), hostile_text), unstructured=hostile_text,
    currency=st.one_of(st.just("EUR"), st.sampled_from(["eur", "USD", "", "EURO"]), hostile_text),
    credit=st.booleans(), debtor=hostile_text, booked_on=st.one_of(st.sampled_from(DATES),
                                                                   hostile_text),
    status=st.sampled_from(["BOOK", "PDNG", "INFO", ""]))


def upload(client, content, name="statement.xml", content_type="text/xml"):
    return client.post("/admin/billing/bankstatement/add/",
                       {"statement": Upload(name, content, content_type)})


def assert_recorded_nothing():
    assert not BankStatement.objects.exists() and not StatementEntry.objects.exists()


@pytest.mark.parametrize("content", HOSTILE_STATEMENTS,
                         ids=[f"statement-{n}" for n in range(len(HOSTILE_STATEMENTS))])
def test_a_hostile_statement_is_refused_in_the_page_or_imported(money_agent, content):
    response = upload(agent(money_agent), content)
    assert_no_server_error(response, repr(content[:200]))
    if response.status_code == 200:  # refused, with the reason in the form
        assert response.context["form"].errors["statement"]
        assert_recorded_nothing()


def test_an_entity_bomb_is_refused_as_a_dtd(money_agent):
    response = upload(agent(money_agent), BOMB)
    assert "declares a DTD or entities" in response.content.decode()
    assert_recorded_nothing()


def test_a_statement_in_another_namespace_is_refused(money_agent):
    content = statement([Credit("10.00", "B-1")]).replace(NAMESPACE.encode(), b"urn:example:x")
    response = upload(agent(money_agent), content)
    assert "not an ISO 20022 camt.053 or camt.054 statement" in response.content.decode()
    assert_recorded_nothing()


def test_statements_with_hostile_entries_never_fail(customer, hosting, money_agent):
    invoice = place_order(customer, hosting)[1]
    reference = references.reference_for(invoice.number, customer.nic_handle)

    @given(entries=st.lists(hostile_entry, min_size=1, max_size=3),
           matching=st.booleans(), message_id=hostile_text, name=hostile_file_name)
    def check(entries, matching, message_id, name):
        if matching:  # one of them pays the invoice, as the bank writes it
            entries.append(Credit(invoice.total, "PAYS-IT", structured=reference))
        content = statement(entries, message_id=message_id)
        with example():
            client = agent(money_agent)
            response = assert_no_server_error(upload(client, content, name=name or "x.xml"),
                                              repr(content[:300]))
            if response.status_code == 200:
                assert response.context["form"].errors["statement"]
                assert_recorded_nothing()
            else:  # imported: the lists and pages that show what it recorded still work
                statement_row = BankStatement.objects.get()
                for url in (response["Location"], "/admin/billing/bankstatement/",
                            f"/admin/billing/bankstatement/{statement_row.pk}/change/",
                            "/admin/billing/payment/", "/admin/billing/statemententry/"):
                    assert client.get(url).status_code == 200, url
                for entry in StatementEntry.objects.all():
                    url = f"/admin/billing/statemententry/{entry.pk}/change/"
                    assert client.get(url).status_code == 200, url
                customer_client = logged_in(customer)
                for url in ("/billing/balance/", f"/billing/invoices/{invoice.number}/pay/"):
                    assert customer_client.get(url).status_code == 200, url

    check()


@given(content=hostile_file_content, name=hostile_file_name,
       content_type=st.sampled_from(["text/xml", "application/pdf", "", "\x00"]))
def test_any_file_uploaded_as_a_statement_never_fails(money_agent, content, name, content_type):
    with example():
        response = upload(agent(money_agent), content, name, content_type)
        assert_no_server_error(response, repr((name, content[:100])))
        assert_recorded_nothing()


def test_a_statement_over_the_size_limit_is_refused_in_the_page(money_agent, settings):
    settings.BANK_STATEMENT_MAX_BYTES = 4096  # the real 8 MB, made small to stay fast
    content = (head("BIG") + "".join(entry_xml(Credit("1.00", f"B-{n}")) for n in range(50))
               + TAIL).encode()
    response = upload(agent(money_agent), content)
    assert "The file is too big" in response.content.decode()
    assert_recorded_nothing()


def test_a_statement_past_the_request_limit_gets_the_413_page(money_agent, settings):
    settings.PORTAL_MAX_UPLOAD_SIZE = 64 * 1024  # the real 10 MB, made small to stay fast
    response = upload(agent(money_agent), b"<x>" + b" " * (64 * 1024) + b"</x>")
    assert response.status_code == 413
    assert_recorded_nothing()


@pytest.mark.parametrize("content_type", ["application/xml", "application/json",
                                          "multipart/form-data; boundary=X", "text/plain"])
def test_a_statement_posted_in_a_wrong_content_type_gets_a_form_error(money_agent,
                                                                      content_type):
    response = agent(money_agent).generic("POST", "/admin/billing/bankstatement/add/",
                                          statement([Credit("10.00", "B-1")]),
                                          content_type=content_type)
    assert_no_server_error(response, content_type)
    assert response.status_code in (200, 400, 403)
    assert_recorded_nothing()


MONEY_LISTS = ["/admin/billing/payment/", "/admin/billing/creditnote/",
               "/admin/billing/creditmovement/", "/admin/billing/bankstatement/",
               "/admin/billing/statemententry/", "/admin/billing/contactchangerequest/",
               "/admin/support/supportrequest/", "/admin/support/contactmessage/"]
PARAMETERS = ["q", "o", "p", "e", "all", "_facets", "review", "statement", "outcome__exact",
              "method__exact", "kind__exact", "state__exact", "status__exact",
              "category__exact", "assignee__id__exact", "handled_at__isempty",
              "recorded_at__year", "recorded_at__month", "recorded_at__day", "issued_at__year",
              "imported_at__year", "created_at__year", "booked_on__gte", "amount__gt",
              "invoice__customer__password", "\x00", "q[]"]


def test_the_money_lists_never_fail_on_hostile_query_strings(customer, hosting, money_agent):
    invoice = place_order(customer, hosting)[1]
    reference = references.reference_for(invoice.number, customer.nic_handle)
    upload(agent(money_agent), statement([Credit(invoice.total, "PAYS-IT", structured=reference)]))
    assert Invoice.objects.get(pk=invoice.pk).is_paid

    @given(url=st.sampled_from(MONEY_LISTS),
           params=st.dictionaries(st.sampled_from(PARAMETERS),
                                  st.one_of(path_segment, st.lists(path_segment, max_size=3)),
                                  max_size=4))
    def check(url, params):
        with example():
            response = agent(money_agent).get(url, params)
            assert_no_server_error(response, f"{url} {params!r}")

    check()


@given(pattern=st.sampled_from(["/admin/billing/payment/{}/change/",
                                "/admin/billing/creditnote/{}/change/",
                                "/admin/billing/bankstatement/{}/change/",
                                "/admin/billing/statemententry/{}/change/",
                                "/admin/billing/invoice/{}/credit-note/"]),
       value=path_segment, method=st.sampled_from(["get", "post"]))
def test_money_admin_urls_never_fail_on_a_hostile_id(money_agent, pattern, value, method):
    url = pattern.format(quote(value, safe=""))
    with example():
        response = getattr(agent(money_agent), method)(url, {"reason": "x", "lines": [value]})
        assert_no_server_error(response, url)
