"""The payment reference names the invoice and the customer, and survives a bank's handling."""

import pytest
from stdnum import iso11649

from billing import references


def test_a_reference_is_a_valid_iso_11649_creditor_reference():
    reference = references.reference_for("FR2026-000123", "dm429850-OVH")
    assert reference.startswith("RF")
    assert iso11649.is_valid(reference)
    assert len(reference) <= 25


def test_a_reference_gives_back_the_invoice_number_and_the_nic_handle():
    reference = references.reference_for("FR2026-000123", "dm429850-OVH")
    assert references.parse(reference) == ("FR2026-000123", "dm429850-OVH")
    assert references.parse(references.formatted(reference)) == ("FR2026-000123", "dm429850-OVH")


def test_a_mistyped_reference_names_nothing():
    reference = references.reference_for("FR2026-000123", "dm429850-OVH")
    wrong = reference[:-1] + ("1" if reference[-1] != "1" else "2")
    assert references.parse(wrong) is None


@pytest.mark.parametrize("text", [
    "Payment {ref} thanks",
    "PAYMENT {spaced} THANKS",
    "{lower}",
    "Invoice {ref}/OVH",
])
def test_a_reference_is_found_inside_a_banks_remittance_text(text):
    reference = references.reference_for("FR2026-000123", "dm429850-OVH")
    message = text.format(ref=reference, spaced=references.formatted(reference), lower=reference.lower())
    assert references.find_in_text(message) == ("FR2026-000123", "dm429850-OVH")


@pytest.mark.parametrize("text", ["", "RF00 1234", "invoice FR2026-000123", "RF18 FR20 2600 0123"])
def test_text_without_one_of_our_references_names_nothing(text):
    assert references.find_in_text(text) is None
