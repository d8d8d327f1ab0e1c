"""The client side of FAPI 2.0: DPoP proofs (RFC 9449) with a key kept next to the token, and
``private_key_jwt`` client assertions (RFC 7523). Signing is joserfc's; it is imported when a
session first needs it, so ``import spiko.client`` stays light."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _origin_and_path(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}", urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


ALGORITHMS = ("PS256", "ES256")


class DPoPSigner:
    """One DPoP key pair and the nonces servers asked for, by origin.

    PS256 (RSA 2048) by default: the server checks an RSA signature several times faster than an
    ECDSA one (the cost every API call pays; see docs/performance.md), while signing costs the
    client a fraction of a millisecond. ES256 (P-256) is the other choice.
    """

    def __init__(self, private_jwk: dict[str, Any] | None = None, algorithm: str = "PS256") -> None:
        from joserfc.jwk import ECKey, JWKRegistry, RSAKey

        if private_jwk is not None:
            algorithm = "ES256" if private_jwk.get("kty") == "EC" else "PS256"
            self._key: Any = JWKRegistry.import_key(private_jwk)
        elif algorithm == "ES256":
            self._key = ECKey.generate_key("P-256", private=True)
        elif algorithm == "PS256":
            self._key = RSAKey.generate_key(2048, private=True)
        else:
            raise ValueError(f"DPoP algorithm must be one of {', '.join(ALGORITHMS)}")
        self.algorithm = algorithm
        self._public = self._key.as_dict(private=False)
        self._nonces: dict[str, str] = {}
        self._lock = threading.Lock()

    @property
    def private_jwk(self) -> dict[str, Any]:
        """What is kept with the token, so a stored token keeps working with its key."""
        return dict(self._key.as_dict(private=True))

    @property
    def jkt(self) -> str:
        return str(self._key.thumbprint())

    def proof(self, method: str, url: str, access_token: str | None = None) -> str:
        from joserfc import jws

        origin, htu = _origin_and_path(url)
        claims: dict[str, Any] = {
            "jti": secrets.token_urlsafe(16),
            "htm": method.upper(),
            "htu": htu,
            "iat": int(time.time()),
        }
        with self._lock:
            nonce = self._nonces.get(origin)
        if nonce is not None:
            claims["nonce"] = nonce
        if access_token is not None:
            digest = hashlib.sha256(access_token.encode("ascii")).digest()
            claims["ath"] = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
        header = {"alg": self.algorithm, "typ": "dpop+jwt", "jwk": self._public}
        payload = json.dumps(claims).encode()
        return str(jws.serialize_compact(header, payload, self._key, algorithms=[self.algorithm]))

    def remember_nonce(self, url: str, nonce: str | None) -> bool:
        """Keep the nonce a server sent (``DPoP-Nonce``); True when it is a new one."""
        if not nonce:
            return False
        origin, _ = _origin_and_path(url)
        with self._lock:
            changed = self._nonces.get(origin) != nonce
            self._nonces[origin] = nonce
        return changed


def client_assertion(client_id: str, private_jwk: dict[str, Any], audience: str) -> dict[str, str]:
    """The form fields of ``private_key_jwt`` authentication: a one-minute, single-use assertion."""
    from joserfc import jwt
    from joserfc.jwk import JWKRegistry

    key = JWKRegistry.import_key(private_jwk)
    algorithm = "ES256" if private_jwk.get("kty") == "EC" else "PS256"
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "jti": secrets.token_urlsafe(16),
        "iat": now,
        "exp": now + 60,
    }
    header: dict[str, Any] = {"alg": algorithm}
    if private_jwk.get("kid"):
        header["kid"] = private_jwk["kid"]
    return {
        "client_id": client_id,
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": str(jwt.encode(header, claims, key, algorithms=[algorithm])),
    }
