"""A software security key for tests without a browser: an ES256 (P-256) credential that
answers WebAuthn assertions the way an authenticator does (authenticator data, client
data, signature), so that py_webauthn verifies them for real. The browser tests use
Chromium's virtual authenticator instead."""

import hashlib
import json
import os

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import bytes_to_base64url

from accounts.models import SecurityKey

RP_ID, ORIGIN = "testserver", "http://testserver"  # Django's test client


class SoftKey:
    def __init__(self):
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(16)
        self.sign_count = 0

    def cose_public_key(self) -> bytes:
        numbers = self.private_key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"),
                            -3: numbers.y.to_bytes(32, "big")})

    def attestation(self, challenge: str, *, rp_id: str = RP_ID, origin: str = ORIGIN) -> str:
        """The browser's answer (as JSON) to a registration's base64url `challenge`, with
        no attestation statement ("none"), as most passkeys give."""
        authenticator_data = (hashlib.sha256(rp_id.encode()).digest() + bytes([0x45])
                              + self.sign_count.to_bytes(4, "big") + bytes(16)
                              + len(self.credential_id).to_bytes(2, "big") + self.credential_id
                              + self.cose_public_key())
        client_data = json.dumps({"type": "webauthn.create", "challenge": challenge,
                                  "origin": origin, "crossOrigin": False}).encode()
        credential_id = bytes_to_base64url(self.credential_id)
        return json.dumps({
            "id": credential_id, "rawId": credential_id, "type": "public-key",
            "clientExtensionResults": {},
            "response": {"clientDataJSON": bytes_to_base64url(client_data),
                         "attestationObject": bytes_to_base64url(cbor2.dumps({
                             "fmt": "none", "attStmt": {},
                             "authData": authenticator_data}))}})

    def register(self, user, name="Soft key") -> SecurityKey:
        """The row a registration ceremony would have stored."""
        return SecurityKey.objects.create(
            user=user, name=name, credential_id=bytes_to_base64url(self.credential_id),
            public_key=self.cose_public_key())

    def assertion(self, challenge: str, *, rp_id: str = RP_ID, origin: str = ORIGIN) -> str:
        """The browser's answer (as JSON) to the base64url `challenge`."""
        self.sign_count += 1
        authenticator_data = (hashlib.sha256(rp_id.encode()).digest() + bytes([0x05])
                              + self.sign_count.to_bytes(4, "big"))
        client_data = json.dumps({"type": "webauthn.get", "challenge": challenge,
                                  "origin": origin, "crossOrigin": False}).encode()
        signature = self.private_key.sign(
            authenticator_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        credential_id = bytes_to_base64url(self.credential_id)
        return json.dumps({
            "id": credential_id, "rawId": credential_id, "type": "public-key",
            "clientExtensionResults": {},
            "response": {"authenticatorData": bytes_to_base64url(authenticator_data),
                         "clientDataJSON": bytes_to_base64url(client_data),
                         "signature": bytes_to_base64url(signature)}})
