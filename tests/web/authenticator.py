"""A software WebAuthn authenticator (P-256, attestation "none") for tests over HTTP, which can
also forge: another origin, another RP id, a replayed or rewound answer."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def passkey_options(page: str, testid: str) -> str:
    """The options JSON a page's passkey form carries (``testid``: passkey-form or passkey-register)."""
    match = re.search(rf'data-passkey-options="([^"]*)"[^>]*data-testid="{testid}"', page)
    assert match, f"the page has no {testid} form"
    return html.unescape(match.group(1))


class SoftAuthenticator:
    def __init__(self, origin: str = "http://testserver", rp_id: str = "testserver") -> None:
        self.origin = origin
        self.rp_id = rp_id
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.sign_count = 0
        self.user_handle: str | None = None

    def create(self, options_json: str, *, origin: str | None = None, rp_id: str | None = None) -> str:
        options = json.loads(options_json)
        self.user_handle = options["user"]["id"]
        client_data = json.dumps(
            {"type": "webauthn.create", "challenge": options["challenge"], "origin": origin or self.origin}
        ).encode()
        numbers = self.key.public_key().public_numbers()
        cose_key = cbor2.dumps(
            {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")}
        )
        attested = bytes(16) + len(self.credential_id).to_bytes(2, "big") + self.credential_id + cose_key
        auth_data = self._rp_hash(rp_id) + bytes([0x01 | 0x04 | 0x40]) + (0).to_bytes(4, "big") + attested
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return json.dumps(
            {
                "id": b64url(self.credential_id),
                "rawId": b64url(self.credential_id),
                "type": "public-key",
                "response": {
                    "clientDataJSON": b64url(client_data),
                    "attestationObject": b64url(attestation),
                    "transports": ["internal"],
                },
                "clientExtensionResults": {},
            }
        )

    def get(
        self,
        options_json: str,
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        sign_count: int | None = None,
        user_verified: bool = True,
        challenge: str | None = None,
    ) -> str:
        options = json.loads(options_json)
        self.sign_count = self.sign_count + 1 if sign_count is None else sign_count
        client_data = json.dumps(
            {
                "type": "webauthn.get",
                "challenge": challenge or options["challenge"],
                "origin": origin or self.origin,
            }
        ).encode()
        flags = 0x01 | (0x04 if user_verified else 0)
        auth_data = self._rp_hash(rp_id) + bytes([flags]) + self.sign_count.to_bytes(4, "big")
        signed = auth_data + hashlib.sha256(client_data).digest()
        signature = self.key.sign(signed, ec.ECDSA(hashes.SHA256()))
        return json.dumps(
            {
                "id": b64url(self.credential_id),
                "rawId": b64url(self.credential_id),
                "type": "public-key",
                "response": {
                    "clientDataJSON": b64url(client_data),
                    "authenticatorData": b64url(auth_data),
                    "signature": b64url(signature),
                    "userHandle": self.user_handle,
                },
                "clientExtensionResults": {},
            }
        )

    def _rp_hash(self, rp_id: str | None) -> bytes:
        return hashlib.sha256((rp_id or self.rp_id).encode()).digest()
