"""``private_key_jwt`` client authentication (RFC 7523 section 2.2, OpenID Connect Core 9): the
client signs a short-lived assertion with a key it registered, as Authlib's assertion check
extended with this server's audiences, algorithms, key sources and single-use ``jti``.

Keys come from the client's registered JWK Set, or from its ``jwks_uri``. Cache: a fetched
``jwks_uri`` document is kept in this process for ``JWKS_URI_CACHE_SECONDS``; when an assertion
names a ``kid`` the cached set does not have, the document is fetched again at once (at most
once per ``JWKS_URI_REFETCH_SECONDS``), so a client's key rotation takes effect immediately.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

import httpx
from authlib.oauth2.rfc6749 import InvalidClientError
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from spiko.auth.oauth.fapi import policy_of
from spiko.auth.oauth.registration import validate_jwks
from spiko.auth.oauth.replay import replay_key
from spiko.auth.oauth.unit import db
from spiko.errors import BadRequestError

if TYPE_CHECKING:
    from spiko.auth.oauth.server import AuthorizationServer

ASSERTION_ALGORITHMS = ["ES256", "PS256", "ES384", "PS384", "RS256"]
MAX_ASSERTION_LIFETIME_SECONDS = 300
JWKS_URI_CACHE_SECONDS = 300.0
JWKS_URI_REFETCH_SECONDS = 10.0
ENDPOINT_PATHS = ("/oauth2/token", "/oauth2/par", "/oauth2/introspect", "/oauth2/revoke")


class RemoteKeySets:
    """``jwks_uri`` documents, fetched and cached per process (see the module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, float, KeySet]] = {}  # uri -> (fetched, expires, keys)

    def get(self, uri: str, kid: str | None) -> KeySet:
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(uri)
        if cached is not None:
            fetched, expires, keys = cached
            known = kid is None or any(key.kid == kid for key in keys.keys)
            if now < expires and (known or now - fetched < JWKS_URI_REFETCH_SECONDS):
                return keys
        keys = self._fetch(uri)
        with self._lock:
            self._cache[uri] = (now, now + JWKS_URI_CACHE_SECONDS, keys)
        return keys

    @staticmethod
    def _fetch(uri: str) -> KeySet:
        try:
            response = httpx.get(uri, timeout=5.0, follow_redirects=False)
            response.raise_for_status()
            return KeySet.import_key_set(validate_jwks(response.json()))  # type: ignore[arg-type]
        except (httpx.HTTPError, ValueError, BadRequestError, JoseError):
            raise InvalidClientError(description="The client's jwks_uri could not be read.") from None


class PrivateKeyJwt(JWTBearerClientAssertion):  # type: ignore[misc]
    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(self, server: AuthorizationServer) -> None:
        super().__init__(validate_jti=True, leeway=30)
        self.server = server
        self.remote = RemoteKeySets()
        self._kid: str | None = None

    def get_audiences(self) -> list[str]:
        """The issuer (FAPI 2.0 section 5.3.2.1) or the URL of the endpoint (RFC 7523 section 3)."""
        issuer = self.server.settings.issuer
        return [issuer, *(issuer + path for path in ENDPOINT_PATHS)]

    def extract_assertion(self, assertion: str) -> tuple[dict[str, Any], dict[str, Any]]:
        headers, claims = super().extract_assertion(assertion)
        self._kid = headers.get("kid") if isinstance(headers.get("kid"), str) else None
        return headers, claims

    def resolve_client_public_key(self, client: Any) -> KeySet:
        policy = policy_of(client)
        if policy.jwks is not None:
            return KeySet.import_key_set(policy.jwks)  # type: ignore[arg-type]
        if policy.jwks_uri is not None:
            return self.remote.get(policy.jwks_uri, self._kid)
        raise InvalidClientError(description="The client registered no keys for private_key_jwt.")

    def process_assertion_claims(self, assertion: str, resolve_key: Any) -> dict[str, Any]:
        try:
            token = jwt.decode(assertion, resolve_key, algorithms=ASSERTION_ALGORITHMS)
        except (JoseError, ValueError):
            raise InvalidClientError(
                description="The client assertion's signature does not verify."
            ) from None
        claims: dict[str, Any] = dict(token.claims)
        exp, iat = claims.get("exp"), claims.get("iat", time.time())
        if not isinstance(exp, int | float) or not isinstance(iat, int | float):
            raise InvalidClientError(description="The client assertion needs numeric exp and iat.")
        if exp - min(float(iat), time.time()) > MAX_ASSERTION_LIFETIME_SECONDS:
            raise InvalidClientError(description="The client assertion lives too long (exp).")
        self.verify_claims(token.claims)
        return claims

    def validate_jti(self, claims: Any, jti: Any) -> bool:
        if not isinstance(jti, str) or not jti or len(jti) > 255:
            return False
        expires = float(claims["exp"]) + self.leeway
        key = replay_key("client_assertion", str(claims["iss"]), jti)
        return self.server.replay.first_use(key, expires, db())
