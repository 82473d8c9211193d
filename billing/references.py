"""The payment reference of an invoice: an ISO 11649 creditor reference ("RF…") that names
the invoice and the customer, so a bank transfer can be matched to what it pays.

Body (at most 21 characters): the invoice number without its dash, then the NIC handle
without its suffix, upper case: invoice `FR2026-000123` of `dm429850-OVH` →
`RF81 FR20 2600 0123 DM42 9850` (printed in groups of four, as banks do)."""

import re

from django.conf import settings
from stdnum import iso11649
from stdnum.exceptions import ValidationError
from stdnum.iso7064 import mod_97_10

# Invoice number (prefix, year, sequence) then the NIC handle's initials and digits.
_BODY = re.compile(r"^(?P<prefix>[A-Z]{2})(?P<year>\d{4})(?P<sequence>\d{6})(?P<nic>[A-Z]{2}\d{6})$")
# A reference as it appears inside free remittance text, spaces allowed between groups.
_IN_TEXT = re.compile(r"RF\s?\d\s?\d(?:\s?[0-9A-Z]){1,21}", re.IGNORECASE)


def _nic_body(nic_handle: str) -> str:
    suffix = settings.NIC_SUFFIX
    if suffix and nic_handle.upper().endswith(suffix.upper()):
        nic_handle = nic_handle[: -len(suffix)]
    return nic_handle.upper()


def reference_for(invoice_number: str, nic_handle: str) -> str:
    """The compact reference (no spaces) for an issued invoice's number and its customer."""
    body = invoice_number.replace("-", "").upper() + _nic_body(nic_handle)
    # ISO 11649 moves "RF" and the check digits to the end and checks ISO 7064 mod 97-10.
    check = mod_97_10.calc_check_digits(body + "RF")
    return f"RF{check}{body}"


def formatted(reference: str) -> str:
    """The reference in groups of four characters, as printed and typed."""
    return iso11649.format(reference)


def parse(reference: str) -> tuple[str, str] | None:
    """(invoice number, NIC handle) named by a valid reference, or None: a wrong check
    digit, another shape or someone else's creditor reference all give None."""
    try:
        compact = iso11649.validate(reference)
    except ValidationError:
        return None
    match = _BODY.match(compact[4:])
    if not match:
        return None
    number = f"{match['prefix']}{match['year']}-{match['sequence']}"
    return number, f"{match['nic'].lower()}{settings.NIC_SUFFIX}"


def find_in_text(text: str) -> tuple[str, str] | None:
    """The first valid reference of ours found in free text (a bank's remittance field)."""
    for candidate in _IN_TEXT.findall(text or ""):
        # The pattern may run into the words after it: try the longest valid prefix.
        compact = re.sub(r"\s", "", candidate).upper()
        for end in range(len(compact), 4, -1):
            found = parse(compact[:end])
            if found:
                return found
    return None
