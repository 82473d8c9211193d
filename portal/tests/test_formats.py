"""One money format per language and phone numbers in international format."""

from decimal import Decimal

from django.template import engines
from django.utils import translation

from portal.formats import format_money, format_phone


def test_money_reads_as_each_language_writes_it():
    amount = Decimal("1234.5")
    assert format_money(amount, "EUR", "es") == "1.234,50\xa0€"
    assert format_money(amount, "EUR", "fr") == "1\u202f234,50\xa0€"
    assert format_money(amount, "EUR", "en") == "€1,234.50"


def test_the_filter_follows_the_active_language_in_html_and_text_templates():
    for engine in (engines["django"], engines["text"]):
        template = engine.from_string("{% load formats %}{{ amount|money:'EUR' }}")
        with translation.override("es"):
            assert template.render({"amount": Decimal("15.59")}) == "15,59\xa0€"
        with translation.override("en"):
            assert template.render({"amount": Decimal("15.59")}) == "€15.59"


def test_an_unknown_language_falls_back_to_english():
    assert format_money(Decimal("2"), "EUR", "xx") == "€2.00"


def test_phones_are_shown_in_international_format():
    assert format_phone("+34600123456") == "+34 600 12 34 56"
    assert format_phone("+33612345678") == "+33 6 12 34 56 78"


def test_a_phone_that_does_not_parse_is_shown_as_stored():
    assert format_phone("call me") == "call me"
    assert format_phone("") == ""
