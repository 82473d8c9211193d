"""How amounts and phone numbers read, one format per language: the template filters
`money` and `phone` (`{% load formats %}`, registered for both template engines in
settings), also used by Python code that writes text for a customer.

Money goes through Babel's CLDR data (es "1.234,50 €", fr "1 234,50 €", en "€1,234.50"):
Django's l10n formats the number but knows no currency pattern. Phones go through
phonenumbers (the lite build: no carrier or geocoding data) in international format."""

from decimal import Decimal
from functools import lru_cache

import phonenumbers
from babel.core import Locale, UnknownLocaleError
from babel.numbers import NumberPattern
from django import template
from django.utils.translation import get_language, to_locale

register = template.Library()

DEFAULT_CURRENCY = "EUR"


@lru_cache(maxsize=32)
def _currency_format(language: str | None) -> tuple[Locale, NumberPattern]:
    """Babel's locale and currency pattern for a Django language code, parsed once:
    parsing is most of the cost of formatting an amount."""
    try:
        locale = Locale.parse(to_locale(language or "en"))
    except (UnknownLocaleError, ValueError):
        locale = Locale.parse("en")
    return locale, locale.currency_formats["standard"]


def format_money(amount: Decimal | int | str | None, currency: str | None = None,
                 language: str | None = None) -> str:
    """`amount` with its currency in the pattern of `language` (the active one by
    default), with the currency's decimals (two for the euro); empty for None."""
    if amount is None or amount == "":
        return ""
    return _formatted(Decimal(amount), currency or DEFAULT_CURRENCY, language or get_language())


@lru_cache(maxsize=4096)
def _formatted(amount: Decimal, currency: str, language: str | None) -> str:
    """Formatting an amount costs tens of microseconds and a page shows dozens, mostly
    the same few prices: each is formatted once per process (a few hundred kilobytes
    at most)."""
    locale, pattern = _currency_format(language)
    return pattern.apply(amount, locale, currency=currency, currency_digits=True)


def format_phone(value: str | None) -> str:
    """A stored phone number in international format ("+34 600 12 34 56"); what does
    not parse is shown as stored."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(str(value), None)
    except phonenumbers.NumberParseException:
        return str(value)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@register.filter(name="money")
def money_filter(amount, currency=None):
    """{{ invoice.total|money:invoice.currency }}"""
    return format_money(amount, currency)


@register.filter(name="phone")
def phone_filter(value):
    """{{ user.phone|phone }}"""
    return format_phone(value)
