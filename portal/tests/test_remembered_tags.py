"""`{% translate %}` and `{% url %}` remember their result per language
(portal.templatetags.remembered_i18n, remembered_url) without changing what renders."""

from django.template import engines
from django.test import RequestFactory
from django.utils import translation

from portal.templatetags.remembered_i18n import RememberedTranslateNode
from portal.templatetags.remembered_url import RememberedURLNode


def template(source):
    return engines["django"].from_string(source)


def nodes(compiled, kind):
    return compiled.template.nodelist.get_nodes_by_type(kind)


def test_the_same_node_renders_each_language_in_its_own_words():
    page = template('{% load i18n %}{% translate "Log out" %}|{% url "accounts:login" %}')
    seen = {}
    for language in ("en", "es", "fr", "es", "en"):
        with translation.override(language):
            seen.setdefault(language, set()).add(page.render({}))
    assert {language: len(pages) for language, pages in seen.items()} == {"en": 1, "es": 1,
                                                                          "fr": 1}
    assert seen["en"] == {"Log out|/login/"}
    assert seen["es"] != seen["en"] and seen["fr"] != seen["en"] != seen["es"]
    assert all(node.remembered for node in nodes(page, RememberedTranslateNode))


def test_what_depends_on_the_context_is_not_remembered():
    page = template('{% load i18n %}{% translate word %}·{% translate "Log out" as label %}'
                    '{{ label }}·{% url "billing:invoice" number %}·'
                    '{% url "no-such-view" as missing %}[{{ missing }}]')
    with translation.override("en"):
        first = page.render({"word": "Yes", "number": "FR2026-000001"})
        second = page.render({"word": "No", "number": "FR2026-000002"})
    assert first == "Yes·Log out·/billing/invoices/FR2026-000001/·[]"
    assert second == "No·Log out·/billing/invoices/FR2026-000002/·[]"
    assert not any(node.constant for node in nodes(page, RememberedTranslateNode))
    assert not nodes(page, RememberedURLNode)[1].constant  # `as missing`


def test_a_context_translation_is_remembered_with_its_context():
    page = template('{% load i18n %}{% translate "On" context "switch: state" %}')
    with translation.override("en"):
        assert page.render({}) == "On"
    assert nodes(page, RememberedTranslateNode)[0].constant


def test_a_page_request_renders_the_layout_through_the_remembered_tags(client):
    response = client.get("/login/", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    assert 'href="/signup/"' in response.content.decode()
    request = RequestFactory().get("/")
    with translation.override("es"):
        rendered = template('{% load i18n %}{% translate "Log out" %}').render({}, request)
    assert rendered and rendered != "Log out"


def test_urls_with_arguments_are_kept_per_argument_and_bounded(monkeypatch):
    from portal.templatetags import remembered_url

    monkeypatch.setattr(remembered_url, "ARGUMENTS_KEPT", 3)
    page = template('{% url "billing:invoice" number %}')
    node = nodes(page, RememberedURLNode)[0]
    with translation.override("en"):
        for n in range(1, 6):
            assert page.render({"number": f"FR2026-{n:06d}"}) == (
                f"/billing/invoices/FR2026-{n:06d}/")
        assert 0 < len(node.remembered) <= 3
        # Not a plain string or number: reversed every time, never kept.
        kept = dict(node.remembered)
        assert page.render({"number": ["FR2026-000009"]}).startswith("/billing/invoices/")
        assert node.remembered == kept
