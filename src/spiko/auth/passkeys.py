"""WebAuthn Level 2 relying party (passkeys), on Duo Labs' ``webauthn``.

The relying party is the issuer: its host is the RP id and its origin the only origin accepted.
Challenges are not stored when issued (a page showing a passkey button writes nothing): each is
32 random bytes followed by its expiry and an HMAC binding it to its purpose and subject (the
user registering, the sign-in waiting for its second step, the session stepping up). When an
answer comes back, the challenge in its client data must carry a valid MAC for that purpose and
subject and be unexpired; the service then records it as used, so it is accepted once.
Origin, RP id hash, challenge, signature and sign counter are checked by ``webauthn``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import struct
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import webauthn
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url, parse_client_data_json
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from spiko.auth.secrets import derive_key

CHALLENGE_TTL_SECONDS = 300
_NONCE = 32
_MAC = 16


class CeremonyRefused(Exception):
    """The browser's answer does not prove what it should; the reason is for logs, not for pages."""


@dataclass(frozen=True)
class RelyingParty:
    rp_id: str
    origin: str
    name: str
    secret_key: str

    @classmethod
    def for_issuer(cls, issuer: str, secret_key: str, name: str = "Spiko") -> RelyingParty:
        parts = urlsplit(issuer)
        return cls(parts.hostname or "localhost", f"{parts.scheme}://{parts.netloc}", name, secret_key)

    # -- challenges ---------------------------------------------------------------------------------

    def _mac(self, purpose: str, subject: str, body: bytes) -> bytes:
        key = derive_key(self.secret_key, "webauthn-challenge")
        message = purpose.encode() + b"\x00" + subject.encode() + b"\x00" + body
        return hmac.new(key, message, hashlib.sha256).digest()[:_MAC]

    def challenge(self, purpose: str, subject: str, now: float | None = None) -> bytes:
        import os

        expires = int((time.time() if now is None else now) + CHALLENGE_TTL_SECONDS)
        body = os.urandom(_NONCE) + struct.pack(">Q", expires)
        return body + self._mac(purpose, subject, body)

    def check_challenge(self, challenge: bytes, purpose: str, subject: str, now: float | None = None) -> int:
        """The challenge's expiry (epoch seconds) when this server issued it for ``purpose`` and
        ``subject`` and it has not expired; raises :class:`CeremonyRefused` otherwise."""
        if len(challenge) != _NONCE + 8 + _MAC:
            raise CeremonyRefused("challenge of the wrong size")
        body, mac = challenge[: _NONCE + 8], challenge[_NONCE + 8 :]
        if not hmac.compare_digest(mac, self._mac(purpose, subject, body)):
            raise CeremonyRefused("challenge not issued for this ceremony")
        (expires,) = struct.unpack(">Q", body[_NONCE:])
        if expires < (time.time() if now is None else now):
            raise CeremonyRefused("challenge expired")
        return int(expires)

    # -- registration -------------------------------------------------------------------------------

    def registration_options(
        self, *, user_handle: bytes, user_name: str, display_name: str, exclude: list[str], subject: str
    ) -> str:
        """Creation options as JSON for the page: a discoverable credential (a passkey), so it can
        sign in without a password; user verification preferred."""
        options = webauthn.generate_registration_options(
            rp_id=self.rp_id,
            rp_name=self.name,
            user_name=user_name,
            user_id=user_handle,
            user_display_name=display_name,
            challenge=self.challenge("register", subject),
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED,
                user_verification=UserVerificationRequirement.PREFERRED,
            ),
            exclude_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(c)) for c in exclude],
        )
        return webauthn.options_to_json(options)

    def verify_registration(self, credential_json: str, *, subject: str) -> tuple[Registered, bytes]:
        """The new credential and the challenge it answered (for the caller to spend)."""
        challenge = self._answered_challenge(credential_json, "register", subject)
        try:
            verified = webauthn.verify_registration_response(
                credential=credential_json,
                expected_challenge=challenge,
                expected_rp_id=self.rp_id,
                expected_origin=self.origin,
            )
        except (InvalidRegistrationResponse, ValueError, KeyError, TypeError) as refused:
            raise CeremonyRefused(f"registration refused: {refused}") from refused
        transports = json.loads(credential_json).get("response", {}).get("transports") or []
        return (
            Registered(
                credential_id=bytes_to_base64url(verified.credential_id),
                public_key=verified.credential_public_key,
                sign_count=verified.sign_count,
                transports=" ".join(str(t) for t in transports if isinstance(t, str))[:200],
            ),
            challenge,
        )

    # -- authentication -----------------------------------------------------------------------------

    def authentication_options(self, *, purpose: str, subject: str, allow: list[str] | None) -> str:
        """Request options as JSON. ``allow`` None: any passkey of this site (passwordless sign-in,
        user verification required); else the user's credentials."""
        options = webauthn.generate_authentication_options(
            rp_id=self.rp_id,
            challenge=self.challenge(purpose, subject),
            allow_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(c)) for c in allow or []],
            user_verification=(
                UserVerificationRequirement.REQUIRED
                if allow is None
                else UserVerificationRequirement.PREFERRED
            ),
        )
        return webauthn.options_to_json(options)

    def verify_authentication(
        self,
        credential_json: str,
        *,
        purpose: str,
        subject: str,
        public_key: bytes,
        sign_count: int,
        require_user_verification: bool,
    ) -> tuple[int, bytes]:
        """The authenticator's new sign count and the challenge answered (for the caller to spend)."""
        challenge = self._answered_challenge(credential_json, purpose, subject)
        try:
            verified = webauthn.verify_authentication_response(
                credential=credential_json,
                expected_challenge=challenge,
                expected_rp_id=self.rp_id,
                expected_origin=self.origin,
                credential_public_key=public_key,
                credential_current_sign_count=sign_count,
                require_user_verification=require_user_verification,
            )
        except (InvalidAuthenticationResponse, ValueError, KeyError, TypeError) as refused:
            raise CeremonyRefused(f"authentication refused: {refused}") from refused
        return verified.new_sign_count, challenge

    def _answered_challenge(self, credential_json: str, purpose: str, subject: str) -> bytes:
        try:
            credential: Any = json.loads(credential_json)
            client_data = parse_client_data_json(base64url_to_bytes(credential["response"]["clientDataJSON"]))
        except (ValueError, KeyError, TypeError) as refused:
            raise CeremonyRefused("not a WebAuthn credential") from refused
        self.check_challenge(client_data.challenge, purpose, subject)
        return client_data.challenge


@dataclass(frozen=True)
class Registered:
    credential_id: str
    public_key: bytes
    sign_count: int
    transports: str


def credential_id_of(credential_json: str) -> str | None:
    """The credential id a browser's answer names (base64url), or None when it is not one."""
    try:
        raw_id = json.loads(credential_json)["rawId"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(raw_id, str) or len(raw_id) > 1400:
        return None
    try:
        return bytes_to_base64url(base64url_to_bytes(raw_id))
    except ValueError:
        return None


def user_handle_of(credential_json: str) -> str | None:
    try:
        handle = json.loads(credential_json)["response"].get("userHandle")
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if not isinstance(handle, str):
        return None
    try:
        return base64url_to_bytes(handle).decode()
    except (ValueError, UnicodeDecodeError):
        return None
