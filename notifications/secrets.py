"""Secrets that an email carries (a code, a link that grants access) are sealed while the
email waits in the outbox, and only the worker opens them, at send time.

The stored subject and bodies hold a marker where each secret goes; the history and the
admin show the marker masked, the worker puts the secret in its place in memory, and
the sealed copy is wiped once the email is sent or has failed for good. The seal is
Fernet (AES-128-CBC with HMAC-SHA256, from the `cryptography` package) under a key
derived from SECRET_KEY; SECRET_KEY_FALLBACKS still open what was sealed before a key
rotation.
"""

import base64
import json
import re
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.utils.crypto import salted_hmac
from django.utils.html import escape

SALT = "notifications.outbox-secrets"
# ⟦secret:<nonce>:<name>⟧: the nonce is drawn per email, so no text a customer typed
# into the same email can pass for a marker.
MARKER = re.compile("\u27e6secret:([0-9a-f]{16}):([a-z_]+)\u27e7")


class UnreadableSecrets(Exception):
    """The sealed secrets cannot be opened (the key changed with no fallback)."""


def _fernet(salt: str = SALT):
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([
        Fernet(base64.urlsafe_b64encode(salted_hmac(salt, "key", secret=key,
                                                    algorithm="sha256").digest()))
        for key in keys
    ])


def bytes_seal(value: bytes, *, salt: str) -> str:
    """`value` sealed the same way under a key of its own purpose (`salt`): for other
    secrets kept at rest, such as the seeds of authenticator apps."""
    return _fernet(salt).encrypt(value).decode()


def bytes_open(sealed: str, *, salt: str) -> bytes:
    """What bytes_seal sealed, under SECRET_KEY or one of SECRET_KEY_FALLBACKS."""
    try:
        return _fernet(salt).decrypt(sealed.encode())
    except (InvalidToken, ValueError) as exc:
        raise UnreadableSecrets("The sealed value cannot be opened") from exc


def secrets_seal(values: dict[str, str]) -> tuple[str, dict[str, str]]:
    """(sealed text to store, {name: marker to render in place of the value})."""
    nonce = secrets.token_hex(8)
    markers = {name: f"\u27e6secret:{nonce}:{name}\u27e7" for name in values}
    payload = json.dumps({"nonce": nonce, "values": values}).encode()
    return _fernet().encrypt(payload).decode(), markers


def secrets_open(sealed: str) -> tuple[str, dict[str, str]]:
    try:
        data = json.loads(_fernet().decrypt(sealed.encode()))
    except (InvalidToken, ValueError) as exc:
        raise UnreadableSecrets("The email's secrets cannot be opened") from exc
    return data["nonce"], data["values"]


def secrets_fill(text: str, sealed: str, *, html: bool) -> str:
    """`text` with each of its own markers replaced by the secret (escaped in HTML)."""
    nonce, values = secrets_open(sealed)

    def value(match):
        if match.group(1) != nonce or match.group(2) not in values:
            return match.group(0)
        return escape(values[match.group(2)]) if html else values[match.group(2)]

    return MARKER.sub(value, text)


def secrets_mask(text: str, mask: str) -> str:
    return MARKER.sub(mask, text)
