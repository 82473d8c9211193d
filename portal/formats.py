"""How amounts and phone numbers read, one format per language: the template filters
`money` and `phone` (`{% load formats %}`, registered for both template engines in
settings), also used by Python code that writes text for a customer.

Money goes through Babel's CLDR data (es "1.234,50 €", fr "1 234,50 €", en "€1,234.50"):
Django's l10n formats the number but knows no currency pattern. Phones go through
phonenumbers (the lite build: no carrier or geocoding data) in international format."""

from decimal import Decimal

import phonenumbers
from babel.core import Locale, UnknownLocaleError
from babel.numbers import format_currency
from django import template
from django.utils.translation import get_language, to_locale

register = template.Library()

DEFAULT_CURRENCY = "EUR"


def _locale(language: str | None) -> Locale:
    try:
        return Locale.parse(to_locale(language or "en"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def format_money(amount: Decimal | int | str | None, currency: str | None = None,
                 language: str | None = None) -> str:
    """`amount` with its currency in the pattern of `language` (the active one by
    default), always with two decimals; empty for None."""
    if amount is None or amount == "":
        return ""
    return format_currency(Decimal(amount), currency or DEFAULT_CURRENCY,
                           locale=_locale(language or get_language()),
                           currency_digits=True)


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
