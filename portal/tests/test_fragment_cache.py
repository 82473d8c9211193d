"""`{% fragment_cache %}` draws a part of a page once for the data it shows
(portal.templatetags.fragment_cache), and the pages that use it show every change at once."""

import dataclasses
import datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.core.cache import cache
from django.middleware.csrf import _unmask_cipher_token, get_token
from django.template import TemplateSyntaxError, engines
from django.test import RequestFactory
from django.utils import timezone, translation

from portal.templatetags import fragment_cache
from portal.templatetags.fragment_cache import CSRF_PLACEHOLDER, fingerprint


class Drawn:
    """Counts how often the fragment's body is drawn (a callable the body resolves)."""

    def __init__(self):
        self.times = 0

    def __call__(self):
        self.times += 1
        return "drawn"


def template(source):
    return engines["django"].from_string("{% load i18n fragment_cache %}" + source)


def test_the_same_data_is_drawn_once_and_new_data_at_once():
    page = template('{% fragment_cache "rows" rows %}{{ drawn }}:{% for row in rows %}'
                    '{{ row }},{% endfor %}{% endfragment_cache %}')
    drawn = Drawn()
    assert page.render({"rows": [1, 2], "drawn": drawn}) == "drawn:1,2,"
    assert page.render({"rows": [1, 2], "drawn": drawn}) == "drawn:1,2,"
    assert drawn.times == 1
    assert page.render({"rows": [1, 2, 3], "drawn": drawn}) == "drawn:1,2,3,"
    assert drawn.times == 2


def test_each_language_and_time_zone_gets_its_own_drawing():
    page = template('{% fragment_cache "when" when %}{% translate "Log out" %} '
                    '{{ when|date:"H:i" }}{% endfragment_cache %}')
    when = datetime.datetime(2026, 11, 30, 12, 0, tzinfo=datetime.UTC)
    with translation.override("en"):
        english = page.render({"when": when})
    with translation.override("fr"):
        french = page.render({"when": when})
    with translation.override("en"), timezone.override("Europe/Madrid"):
        madrid = page.render({"when": when})
    assert english == "Log out 12:00"
    assert french != english and french.endswith(" 12:00")
    assert madrid == "Log out 13:00"


def test_the_request_gets_its_own_csrf_token_in_a_cached_form():
    page = engines["django"].from_string(
        '{% load fragment_cache %}{% fragment_cache "form" 1 %}<form>{% csrf_token %}</form>'
        '{% endfragment_cache %}')
    first, second = RequestFactory().post("/"), RequestFactory().post("/")
    html_first = page.render({}, request=first)
    html_second = page.render({}, request=second)
    for request, html in ((first, html_first), (second, html_second)):
        assert CSRF_PLACEHOLDER not in html
        token = html.split('value="')[1].split('"')[0]
        assert len(token) == 64 and token != CSRF_PLACEHOLDER
        assert request.META["CSRF_COOKIE"]  # the token was asked, so the cookie is set
    assert html_first != html_second  # each request's masked token


def test_a_cache_outage_draws_the_fragment(caplog):
    page = template('{% fragment_cache "rows" rows %}{{ drawn }}{% endfragment_cache %}')
    drawn = Drawn()
    with mock.patch.object(cache, "get", side_effect=ConnectionError("cache down")):
        assert page.render({"rows": [1], "drawn": drawn}) == "drawn"
    assert drawn.times == 1
    assert "Cache read failed" in caplog.text


def test_with_the_cache_off_every_render_draws(settings):
    settings.FRAGMENT_CACHE_SECONDS = 0
    page = template('{% fragment_cache "rows" rows %}{{ drawn }}{% endfragment_cache %}')
    drawn = Drawn()
    page.render({"rows": [1], "drawn": drawn})
    page.render({"rows": [1], "drawn": drawn})
    assert drawn.times == 2


def test_values_with_no_faithful_representation_are_refused():
    with pytest.raises(TypeError):
        fingerprint(object())
    with pytest.raises(TemplateSyntaxError):
        template("{% fragment_cache %}{% endfragment_cache %}")


@dataclasses.dataclass(frozen=True)
class Row:
    name: str
    total: Decimal


@pytest.mark.django_db
def test_a_fingerprint_follows_every_value_a_template_can_read(customer):
    assert fingerprint([Row("a", Decimal("1.00"))]) != fingerprint([Row("a", Decimal("1.10"))])
    assert fingerprint({"a": 1}) != fingerprint({"a": 2})
    before = fingerprint(customer)
    customer.first_name = "Changed"
    assert fingerprint(customer) != before
    with translation.override("en"):
        english = fingerprint([translation.gettext_lazy("Log out")])
    with translation.override("es"):
        spanish = fingerprint([translation.gettext_lazy("Log out")])
    assert english != spanish


def test_the_code_version_is_stable_within_a_process_and_names_the_code():
    assert fragment_cache.code_version() == fragment_cache.code_version()
    assert len(fragment_cache.code_version()) == 16


def test_the_csrf_token_of_a_page_is_the_requests_own():
    request = RequestFactory().get("/")
    token = get_token(request)
    page = engines["django"].from_string(
        '{% load fragment_cache %}{% fragment_cache "t" 2 %}{% csrf_token %}'
        '{% endfragment_cache %}')
    html = page.render({}, request=request)
    shown = html.split('value="')[1].split('"')[0]
    assert _unmask_cipher_token(shown) == _unmask_cipher_token(token)


@pytest.mark.django_db
def test_rows_that_point_at_each_other_are_described_once(customer):
    from billing.models import Invoice, Order

    order = Order(pk=5, customer=customer, number=1)
    invoice = Invoice(pk=7, customer=customer, order=order, number="X-1")
    order._state.fields_cache["invoice"] = invoice
    invoice._state.fields_cache["order"] = order
    described = fingerprint(order)
    assert "X-1" in repr(described)
    invoice.number = "X-2"
    assert fingerprint(order) != described
