"""DPoP, RFC 9449: proofs of possession of a client's key, and the tokens bound to it.

A proof is a JWS the client signs for one HTTP request with a key whose public half it carries
in its header; the SHA-256 thumbprint of that key (RFC 7638, ``jkt``) is what a token is bound
to. This module checks a proof (section 4.3): its type, algorithm and public key, its signature,
the method and URL it was made for, its age, the access token hash (``ath``) on a resource
request, and the server's nonce (section 8); then that its ``jti`` was never seen before.

Server nonces are stateless: an HMAC of the current time window under a key derived from
``SPIKO_SECRET_KEY``, so every worker issues and accepts the same ones without sharing state.
The current and the previous windows' nonces are accepted.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlsplit, urlunsplit

from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry, RSAKey
from joserfc.jws import JWSRegistry

from spiko.auth.oauth.replay import ReplayStore, replay_key
from spiko.auth.secrets import derive_key

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from spiko.config import Settings

PROOF_TYPE = "dpop+jwt"
SIGNING_ALGORITHMS = ("ES256", "PS256", "ES384", "PS384", "RS256")
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
MAX_PROOF_LENGTH = 8192
FUTURE_SKEW_SECONDS = 5  # a client clock slightly ahead of ours


class DPoPProofError(Exception):
    """A refused proof: ``error`` is ``invalid_dpop_proof`` or ``use_dpop_nonce`` (section 12.2)."""

    def __init__(self, description: str, error: str = "invalid_dpop_proof", nonce: str | None = None):
        super().__init__(description)
        self.description = description
        self.error = error
        self.nonce = nonce  # the nonce to use, with ``use_dpop_nonce``


class Proof(NamedTuple):
    jkt: str  # the base64url SHA-256 thumbprint of the proof's public key
    jti: str
    iat: int


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def b64url_sha256(value: str) -> str:
    digest = hashlib.sha256(value.encode("ascii")).digest()
    return binascii.b2a_base64(digest, newline=False).translate(_URLSAFE).rstrip(b"=").decode("ascii")


def normalized_url(url: str) -> str:
    """Scheme and host in lower case, without query and fragment (section 4.3, RFC 3986 6.2)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    netloc = parts.netloc.lower()
    if parts.scheme.lower() == "https" and netloc.endswith(":443"):
        netloc = netloc[:-4]
    if parts.scheme.lower() == "http" and netloc.endswith(":80"):
        netloc = netloc[:-3]
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", "", ""))


class Nonces:
    """The server's DPoP nonces: valid for the current and the previous window."""

    def __init__(self, settings: Settings) -> None:
        self._key = derive_key(settings.secret_key, "dpop-nonce")
        self._lifetime = max(10, settings.dpop_nonce_lifetime_seconds)
        self._valid: tuple[int, tuple[str, str]] = (-1, ("", ""))  # (window, its and the previous nonce)

    def _for_window(self, window: int) -> str:
        mac = hmac.new(self._key, str(window).encode(), hashlib.sha256).digest()[:18]
        return base64.urlsafe_b64encode(mac).decode("ascii")

    def current(self, now: float | None = None) -> str:
        return self._for_window(int((now or time.time()) // self._lifetime))

    def is_valid(self, nonce: object, now: float | None = None) -> bool:
        if not isinstance(nonce, str) or len(nonce) > 64:
            return False
        window = int((now or time.time()) // self._lifetime)
        cached_window, valid = self._valid
        if cached_window != window:
            valid = (self._for_window(window), self._for_window(window - 1))
            self._valid = (window, valid)
        return hmac.compare_digest(nonce, valid[0]) or hmac.compare_digest(nonce, valid[1])


class ProofVerifier:
    """Checks DPoP proofs against this server's settings, nonces and replay store."""

    def __init__(self, settings: Settings, replay: ReplayStore) -> None:
        self.settings = settings
        self.nonces = Nonces(settings)
        self.replay = replay
        self.headers = HeaderCache()

    def verify(
        self,
        proof: str,
        *,
        method: str,
        url: str,
        access_token: str | None = None,
        require_nonce: bool | None = None,
        session: Session | None = None,
        now: float | None = None,
        replay: ReplayStore | None = None,
    ) -> Proof:
        """The checked proof; raises ``DPoPProofError`` when anything is wrong.

        Its ``jti`` is recorded only once everything else holds, so a refused proof (say, one
        without the nonce) does not burn the identifier of the retry.
        """
        now = time.time() if now is None else now
        header, claims = _signed_parts(proof, self.headers)
        if claims.get("htm") != method:
            raise DPoPProofError("The DPoP proof was made for another HTTP method.")
        htu = claims.get("htu")
        if not isinstance(htu, str) or (htu != url and normalized_url(htu) != normalized_url(url)):
            raise DPoPProofError("The DPoP proof was made for another URL (htu).")
        iat = claims.get("iat")
        if not isinstance(iat, int | float) or isinstance(iat, bool):
            raise DPoPProofError("The DPoP proof has no valid iat.")
        if iat < now - self.settings.dpop_proof_max_age_seconds or iat > now + FUTURE_SKEW_SECONDS:
            raise DPoPProofError("The DPoP proof is stale or from the future (iat).")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not 8 <= len(jti) <= 255:
            raise DPoPProofError("The DPoP proof needs a unique jti of 8 to 255 characters.")
        if access_token is not None:
            ath = claims.get("ath")
            if not isinstance(ath, str) or not hmac.compare_digest(ath, b64url_sha256(access_token)):
                raise DPoPProofError("The DPoP proof is not bound to this access token (ath).")
        needs_nonce = self.settings.dpop_nonce_required if require_nonce is None else require_nonce
        if needs_nonce and not self.nonces.is_valid(claims.get("nonce"), now):
            raise DPoPProofError(
                "Use the server's DPoP nonce in the proof.", "use_dpop_nonce", self.nonces.current(now)
            )
        jkt = header.jkt
        expires = float(iat) + self.settings.dpop_proof_max_age_seconds + FUTURE_SKEW_SECONDS
        key_id = replay_key("dpop", jkt + " " + htu, jti)
        if not (replay or self.replay).first_use(key_id, expires, session):
            raise DPoPProofError("This DPoP proof was already used (jti).")
        return Proof(jkt, jti, int(iat))


@dataclass(frozen=True)
class ProofHeader:
    """A checked proof header: the algorithm (joserfc's), the public key and its thumbprint."""

    algorithm: Any
    key: Any
    jkt: str


class HeaderCache:
    """Checked headers by their encoded form.

    A client sends the same header (``alg``, ``typ``, ``jwk``) with every proof, so parsing it,
    importing its key and computing the thumbprint is done once per key and process. Bounded:
    emptied when it reaches ``MAX_ENTRIES``. Nothing invalidates an entry, since what it holds
    follows from the encoded header alone.
    """

    MAX_ENTRIES = 4096

    def __init__(self) -> None:
        self._entries: dict[str, ProofHeader] = {}
        self._lock = threading.Lock()

    def get(self, segment: str) -> ProofHeader:
        entry = self._entries.get(segment)
        if entry is None:
            entry = _check_header(segment)
            with self._lock:
                if len(self._entries) >= self.MAX_ENTRIES:
                    self._entries.clear()
                self._entries[segment] = entry
        return entry


_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")


def _decode(segment: str) -> bytes:
    """Base64url without padding, decoded as joserfc's ``urlsafe_b64decode`` does (in one call)."""
    data = segment.encode("ascii")
    return binascii.a2b_base64(data.translate(_FROM_URLSAFE) + b"=" * (-len(data) % 4))


def _check_header(segment: str) -> ProofHeader:
    try:
        header = json.loads(_decode(segment))
    except (ValueError, TypeError):
        raise DPoPProofError("The DPoP proof is not a compact JWS.") from None
    if not isinstance(header, dict) or header.get("typ") != PROOF_TYPE:
        raise DPoPProofError("The DPoP proof's typ must be dpop+jwt.")
    alg = header.get("alg")
    if alg not in SIGNING_ALGORITHMS:
        raise DPoPProofError(f"The DPoP proof's alg must be one of {', '.join(SIGNING_ALGORITHMS)}.")
    if "crit" in header:
        raise DPoPProofError("The DPoP proof may not carry critical header parameters.")
    public = header.get("jwk")
    if not isinstance(public, dict) or PRIVATE_MEMBERS & public.keys():
        raise DPoPProofError("The DPoP proof must carry a public key (jwk) and nothing private.")
    try:
        key = JWKRegistry.import_key(public)
        algorithm = JWSRegistry.algorithms[alg]
        algorithm.check_key(key)
    except (JoseError, ValueError, TypeError, KeyError):
        raise DPoPProofError("The DPoP proof's key does not fit its algorithm.") from None
    if isinstance(key, RSAKey) and key.raw_value.key_size < 2048:
        raise DPoPProofError("The DPoP proof's RSA key is shorter than 2048 bits.")
    return ProofHeader(algorithm, key, key.thumbprint())


def _signed_parts(proof: str, headers: HeaderCache) -> tuple[ProofHeader, dict[str, Any]]:
    """The checked header and the claims of a well-formed proof whose signature verifies."""
    if not proof or len(proof) > MAX_PROOF_LENGTH or not proof.isascii():
        raise DPoPProofError("The DPoP proof is not a compact JWS.")
    segments = proof.split(".")
    if len(segments) != 3:
        raise DPoPProofError("The DPoP proof is not a compact JWS.")
    header = headers.get(segments[0])
    signing_input = f"{segments[0]}.{segments[1]}".encode("ascii")
    try:
        valid = header.algorithm.verify(signing_input, _decode(segments[2]), header.key)
        claims = json.loads(_decode(segments[1])) if valid else None
    except (JoseError, ValueError, TypeError):
        valid, claims = False, None
    if not valid:
        raise DPoPProofError("The DPoP proof's signature does not verify with its key.")
    if not isinstance(claims, dict):
        raise DPoPProofError("The DPoP proof's payload is not a JSON object.")
    return header, claims
