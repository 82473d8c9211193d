"""VAT by the customer's country (billing.vat): EU private customers pay their own
country's standard rate, EU businesses elsewhere than the seller's country with a valid
VAT number are reverse-charged, customers outside the EU pay none. The rate and the
reason are stored on each line when it is written."""

import io
from decimal import Decimal

import pytest
from pypdf import PdfReader

from accounts.models import LegalForm
from billing.models import Invoice
from billing.services.invoices import invoice_render_pdf
from billing.vat import RATES_CHECKED, STANDARD_RATES, Reason, vat_for, vat_number_clean
from conftest import make_customer

from .conftest import NOW, place_order

pytestmark = pytest.mark.django_db

MENTION = "Reverse charge — Article 196 of Council Directive 2006/112/EC"
GERMAN_VAT = "DE136695976"
FRENCH_VAT = "FR40303265045"


def business(email, country, vat_number):
    return make_customer(email, legal_form=LegalForm.CORPORATION, organisation="Example GmbH",
                         address="Hauptstrasse 1", city="Berlin", zip="10115", country=country,
                         vat_number=vat_number)


def test_the_rates_table_has_the_27_member_states_and_the_date_it_was_checked():
    assert len(STANDARD_RATES) == 27
    assert STANDARD_RATES["ES"] == Decimal("21") and STANDARD_RATES["HU"] == Decimal("27")
    assert RATES_CHECKED.year == 2026


@pytest.mark.parametrize(("country", "business_", "number", "rate", "reason", "whose"), [
    ("ES", False, "", "21", Reason.STANDARD, "ES"),
    ("DE", False, "", "19", Reason.STANDARD, "DE"),
    ("FR", False, "", "20", Reason.STANDARD, "FR"),
    ("DE", True, GERMAN_VAT, "0", Reason.REVERSE_CHARGE, "DE"),
    ("DE", True, "DE123456789", "19", Reason.STANDARD, "DE"),  # fails its check digit
    ("DE", True, "", "19", Reason.STANDARD, "DE"),
    ("DE", False, GERMAN_VAT, "19", Reason.STANDARD, "DE"),  # a private customer
    ("FR", True, FRENCH_VAT, "20", Reason.STANDARD, "FR"),  # the seller's own country
    ("US", False, "", "0", Reason.OUTSIDE_EU, "US"),
    ("CH", True, "", "0", Reason.OUTSIDE_EU, "CH"),
    ("", False, "", "20", Reason.STANDARD, "FR"),  # unknown: the seller's country
])
def test_the_treatment_of_each_kind_of_customer(country, business_, number, rate, reason, whose):
    treatment = vat_for(country=country, is_business=business_, vat_number=number)
    assert (treatment.rate, treatment.reason, treatment.country) == (Decimal(rate), reason, whose)


def test_the_sellers_country_comes_from_the_settings(settings):
    settings.SELLER_COUNTRY = "DE"
    assert vat_for(country="DE", is_business=True, vat_number=GERMAN_VAT).reason == Reason.STANDARD
    assert vat_for(country="FR", is_business=True,
                   vat_number=FRENCH_VAT).reason == Reason.REVERSE_CHARGE
    assert vat_for(country="", is_business=False, vat_number="").rate == Decimal("19")


@pytest.mark.parametrize(("typed", "country", "stored"), [
    ("DE 136 695 976", "DE", GERMAN_VAT),
    ("136695976", "DE", GERMAN_VAT),
    ("el094259216", "GR", "EL094259216"),
])
def test_a_vat_number_is_stored_compact_with_its_prefix(typed, country, stored):
    assert vat_number_clean(typed, country) == stored


@pytest.mark.parametrize(("typed", "country", "message"), [
    ("DE123456789", "DE", "not a valid VAT number"),
    (GERMAN_VAT, "ES", "should start with ES"),
    (GERMAN_VAT, "US", "only taken for a country of the European Union"),
])
def test_an_invalid_vat_number_is_refused_with_a_clear_message(typed, country, message):
    with pytest.raises(ValueError, match=message):
        vat_number_clean(typed, country)


def test_a_spanish_private_customer_pays_spanish_vat(customer, hosting):
    order, invoice, _service = place_order(customer, hosting, now=NOW)
    line = invoice.lines.get()
    assert (line.tax_rate, line.tax_reason, line.tax_country) == (Decimal("21"), "standard", "ES")
    assert invoice.total == Decimal("60.38")
    order_line = order.lines.get()
    assert (order_line.tax_rate, order_line.tax_reason, order_line.tax_country) == (
        Decimal("21"), "standard", "ES")


def test_an_eu_business_is_reverse_charged_with_the_legal_mention(client, hosting):
    company = business("billing@example.de", "DE", GERMAN_VAT)
    order, invoice, _service = place_order(company, hosting, now=NOW)
    line = invoice.lines.get()
    assert (line.tax_rate, line.tax_reason, line.tax_amount) == (Decimal("0"), "reverse_charge",
                                                                 Decimal("0.00"))
    assert order.lines.get().tax_reason == "reverse_charge"
    assert invoice.total == invoice.subtotal == Decimal("49.90")
    assert invoice.customer_vat_number == GERMAN_VAT
    client.force_login(company)
    page = client.get(f"/billing/invoices/{invoice.number}/").content.decode()
    assert MENTION in page and GERMAN_VAT in page
    pdf = invoice_render_pdf(invoice=Invoice.objects.get(pk=invoice.pk))
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert MENTION in text and GERMAN_VAT in text


def test_a_customer_outside_the_eu_pays_no_vat(hosting, client):
    american = make_customer("someone@example.com", country="US")
    _order, invoice, _service = place_order(american, hosting, now=NOW)
    line = invoice.lines.get()
    assert (line.tax_rate, line.tax_reason) == (Decimal("0"), "outside_eu")
    assert invoice.total == Decimal("49.90")
    client.force_login(american)
    page = client.get(f"/billing/invoices/{invoice.number}/").content.decode()
    assert "customer established outside the European Union" in page and MENTION not in page


def test_the_stored_rate_is_never_recomputed(customer, hosting):
    _order, invoice, _service = place_order(customer, hosting, now=NOW)
    customer.country = "US"
    customer.save(update_fields=["country"])
    line = Invoice.objects.get(pk=invoice.pk).lines.get()
    assert (line.tax_rate, line.tax_reason, line.tax_country) == (Decimal("21"), "standard", "ES")


def test_the_order_review_shows_the_customers_rate(customer_client, hosting):
    page = customer_client.post("/billing/orders/new/", {
        "product": hosting.pk, "period": "year", "service_name": "example.com",
    }).content.decode()
    assert "Tax (21 %)" in page and "€60.38" in page
    assert "Standard rate of your country (Spain)" in page


def test_the_order_review_of_an_eu_business_says_reverse_charge(client, hosting):
    company = business("billing@example.de", "DE", GERMAN_VAT)
    client.force_login(company)
    page = client.post("/billing/orders/new/", {
        "product": hosting.pk, "period": "year", "service_name": "example.com",
    }).content.decode()
    assert "Tax (0 %)" in page and "€49.90" in page and MENTION in page
