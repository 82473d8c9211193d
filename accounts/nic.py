"""NIC handles: `<initials><6 digits><suffix>`, e.g. `dm429850-OVH`."""

import secrets
import unicodedata

from django.conf import settings

# Latin letters that Unicode decomposition does not reduce to an ASCII base letter.
_EXTRA_FOLDS = {
    "ß": "s", "æ": "a", "ø": "o", "œ": "o", "đ": "d", "ð": "d", "þ": "t",
    "ł": "l", "ı": "i", "ħ": "h", "ŧ": "t", "ŋ": "n", "ĸ": "k",
}


def name_initial(name):
    """The first Latin letter of a name, folded to ASCII lower case; `x` if there is none."""
    for char in name or "":
        lowered = char.lower()
        folded = _EXTRA_FOLDS.get(lowered)
        if folded is None:
            base = unicodedata.normalize("NFKD", lowered)[:1]
            folded = base if base.isascii() and base.isalpha() else None
        if folded:
            return folded
    return "x"


def random_digits():
    return f"{secrets.randbelow(1_000_000):06d}"


def nic_handle_candidate(first_name, last_name):
    return f"{name_initial(first_name)}{name_initial(last_name)}{random_digits()}{settings.NIC_SUFFIX}"
