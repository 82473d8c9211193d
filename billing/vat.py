"""Which VAT an invoice line carries, decided once when it is written and stored on it
(rate, reason, country): never recomputed afterwards.

- A customer in the EU pays the standard rate of their own country, except
- an EU business with a valid VAT number in another country than the seller's: reverse
  charge (0 %, Article 196 of Council Directive 2006/112/EC; the customer accounts for
  the VAT);
- outside the EU: no VAT (the supply is outside the scope of EU VAT);
- no country known: the seller's country.

The rates are the one place to update when a country changes its rate: check them
against the European Commission's "VAT rates" list (taxation-customs.ec.europa.eu) and
change RATES_CHECKED with them."""

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as NumberInvalid

RATES_CHECKED = date(2026, 1, 15)

# Standard VAT rate (%) of each EU member state, by ISO 3166 country code.
STANDARD_RATES = {
    "AT": Decimal("20"), "BE": Decimal("21"), "BG": Decimal("20"), "CY": Decimal("19"),
    "CZ": Decimal("21"), "DE": Decimal("19"), "DK": Decimal("25"), "EE": Decimal("24"),
    "ES": Decimal("21"), "FI": Decimal("25.5"), "FR": Decimal("20"), "GR": Decimal("24"),
    "HR": Decimal("25"), "HU": Decimal("27"), "IE": Decimal("23"), "IT": Decimal("22"),
    "LT": Decimal("21"), "LU": Decimal("17"), "LV": Decimal("21"), "MT": Decimal("18"),
    "NL": Decimal("21"), "PL": Decimal("23"), "PT": Decimal("23"), "RO": Decimal("21"),
    "SE": Decimal("25"), "SI": Decimal("22"), "SK": Decimal("23"),
}
EU_COUNTRIES = frozenset(STANDARD_RATES)
# VAT numbers start with the country code, except Greece's (EL).
VAT_PREFIXES = {"GR": "EL"}
REVERSE_CHARGE_MENTION = _("Reverse charge — Article 196 of Council Directive 2006/112/EC")


class Reason(models.TextChoices):
    """Why a line carries its rate (stored on invoice and order lines)."""

    STANDARD = "standard", _("Standard rate of the country")
    REVERSE_CHARGE = "reverse_charge", _("Reverse charge (EU business)")
    OUTSIDE_EU = "outside_eu", _("Outside the EU: no VAT")


@dataclass(frozen=True)
class Treatment:
    rate: Decimal
    reason: str
    country: str  # whose rate applies (the customer's, or the seller's)


def vat_number_clean(number: str, country: str) -> str:
    """The VAT number in its compact form with its country prefix (DE123456788), or
    ValueError with a sentence for the customer: it must pass the check of its country
    and be of `country` (an EU member state). A number typed without its prefix gets
    the country's."""
    country = (country or "").upper()
    if country not in EU_COUNTRIES:
        raise ValueError(_("A VAT number is only taken for a country of the European Union."))
    prefix = VAT_PREFIXES.get(country, country)
    compact = re.sub(r"[\s.\-/]", "", number or "").upper()
    if not compact[:2].isalpha():
        compact = prefix + compact
    if compact[:2] != prefix:
        raise ValueError(_("This VAT number is not one of the country chosen in your "
                           "address (it should start with %(prefix)s).") % {"prefix": prefix})
    try:
        return eu_vat.validate(compact)
    except NumberInvalid:
        raise ValueError(_("This is not a valid VAT number: check it on your registration "
                           "papers (%(prefix)s followed by the number).")
                         % {"prefix": prefix}) from None


def vat_for(*, country: str, is_business: bool, vat_number: str) -> Treatment:
    """The VAT treatment of a customer, from their country (ISO code), whether they buy
    as a business and their VAT number (as stored: checked when it was typed, and
    checked again here, since a number only counts when it is valid)."""
    seller = settings.SELLER_COUNTRY
    country = (country or "").upper() or seller
    if country not in EU_COUNTRIES:
        return Treatment(Decimal("0"), Reason.OUTSIDE_EU, country)
    if is_business and vat_number and country != seller and _valid_for(vat_number, country):
        return Treatment(Decimal("0"), Reason.REVERSE_CHARGE, country)
    return Treatment(STANDARD_RATES[country], Reason.STANDARD, country)


def _valid_for(vat_number: str, country: str) -> bool:
    try:
        vat_number_clean(vat_number, country)
    except ValueError:
        return False
    return True
