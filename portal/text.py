"""Text that people type: email addresses in one normal form, and the characters that have
no place in a name.

Two addresses that look the same must be the same address, or one of them is refused:
otherwise a look-alike of a customer's address (with a zero-width space, a soft hyphen, a
fullwidth letter) makes a second account whose mail reaches the first customer's mailbox.
So every address is stored and compared in the form normalise_email gives it.

Names are kept as typed; no_control_characters only refuses the characters that break a
line or reorder what is displayed: a service named "gnp.exe" after U+202E (right-to-left
override) displays as "exe.png"."""

import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils.translation import gettext_lazy as _

INVISIBLE_EMAIL_MESSAGE = _("An email address cannot contain invisible or control characters.")
CONTROL_CHARACTERS_MESSAGE = _("This field cannot contain control or text-direction characters.")

# Unicode's Default_Ignorable_Code_Point characters that are letters or marks rather than
# format characters (Cf): they display as nothing, just like a zero-width space.
_IGNORABLE_LETTERS_AND_MARKS = frozenset(
    "\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180f\u3164\uffa0"
    + "".join(map(chr, range(0xFE00, 0xFE10)))
    + "".join(map(chr, range(0xE0100, 0xE01F0)))
)

# Marks, embeddings, overrides and isolates: they change the order in which the characters
# around them are displayed.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                          "\u2066\u2067\u2068\u2069")

# IDNA 2003 (Python's "idna" codec) maps these to "ss" and "σ"; IDNA 2008, which registries
# use, keeps them: faß.de and fass.de are two domains with two owners.
_IDNA_DEVIATIONS = frozenset("ßς")


def _is_invisible(char):
    """Control (Cc), format (Cf: zero-width space and joiners, soft hyphen, direction
    marks), private-use, surrogate or unassigned, or ignorable."""
    return unicodedata.category(char).startswith("C") or char in _IGNORABLE_LETTERS_AND_MARKS


def _invalid_email():
    return ValidationError(EmailValidator.message, code="invalid")


def _domain_label_to_ascii(label):
    if label.isascii():
        return label
    try:
        # Nameprep, its checks (prohibited characters, the bidi rule) and Punycode.
        ascii_label = label.encode("idna").decode("ascii")
    except UnicodeError:
        raise _invalid_email() from None
    if _IDNA_DEVIATIONS.intersection(label):
        ascii_label = "xn--" + label.encode("punycode").decode("ascii")
        if len(ascii_label) > 63:
            raise _invalid_email()
    return ascii_label


def normalise_email(value):
    """The form in which an email address is stored and compared, or ValidationError.

    1. NFKC: fullwidth and other compatibility letters become the plain ones
       ("ａgent" → "agent", "＠" → "@").
    2. Surrounding whitespace is dropped.
    3. An invisible or control character left anywhere is refused (it would make a
       look-alike of another address).
    4. Lower case, one character at a time (so a capital sigma is σ wherever it stands).
    5. The domain in its IDNA ASCII form, the one mail servers use
       ("bücher.example" → "xn--bcher-kva.example"); a domain without one is invalid.
    Whether the result is a valid address is for EmailValidator to say: a value with no
    "@" only goes through steps 1-4 (which is also how a NIC handle is compared)."""
    value = unicodedata.normalize("NFKC", value or "").strip()
    if any(_is_invisible(char) for char in value):
        raise ValidationError(INVISIBLE_EMAIL_MESSAGE, code="invisible_characters")
    value = "".join(char.lower() for char in value)
    local, at, domain = value.rpartition("@")
    if not at or domain.isascii():
        return value
    domain = unicodedata.normalize("NFKC", domain)
    return f"{local}@{'.'.join(_domain_label_to_ascii(label) for label in domain.split('.'))}"


def no_control_characters(value):
    """Validator for names and other one-line text shown to people: no control character
    (tab and newline included), no line or paragraph separator, no bidi control. Other
    invisible characters stay: joiners belong to some scripts (Persian, Indic) and emoji."""
    for char in str(value):
        if unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in BIDI_CONTROLS:
            raise ValidationError(CONTROL_CHARACTERS_MESSAGE, code="control_characters")
