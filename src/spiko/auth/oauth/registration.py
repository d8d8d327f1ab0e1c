"""What a client may register beyond redirect URIs: its public keys for ``private_key_jwt``
(RFC 7523, a JWK Set or a ``jwks_uri``), the FAPI 2.0 profile, PAR and DPoP requirements, and
the algorithm of its ID tokens."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

from spiko.auth.oauth.fapi import FAPI2, FAPI_ID_TOKEN_ALGORITHMS, ID_TOKEN_ALGORITHMS, ClientPolicy
from spiko.db.models.oauth import OAuthClient
from spiko.errors import BadRequestError

PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
MAX_JWKS_LENGTH = 20_000


@dataclass(frozen=True)
class ClientOptions:
    fapi: bool = False
    dpop_only: bool = False
    require_par: bool = False
    jwks: dict[str, Any] | None = None
    jwks_uri: str | None = None
    id_token_alg: str | None = None

    @property
    def has_keys(self) -> bool:
        return self.jwks is not None or self.jwks_uri is not None

    def checked(self, *, public: bool) -> ClientOptions:
        """These options, validated; a clear 400 when they do not fit together."""
        if self.jwks is not None and self.jwks_uri is not None:
            raise BadRequestError("register either a JWK Set or a jwks_uri, not both")
        if public and self.has_keys:
            raise BadRequestError("a public client has no keys to authenticate with")
        if self.fapi and public:
            raise BadRequestError("a FAPI 2.0 client is confidential: it authenticates with private_key_jwt")
        if self.fapi and not self.has_keys:
            raise BadRequestError("a FAPI 2.0 client needs its public keys (--jwks FILE or --jwks-uri URL)")
        if self.id_token_alg is not None and self.id_token_alg not in ID_TOKEN_ALGORITHMS:
            raise BadRequestError(f"ID tokens can be signed with {', '.join(ID_TOKEN_ALGORITHMS)}")
        if self.fapi and self.id_token_alg not in (None, *FAPI_ID_TOKEN_ALGORITHMS):
            raise BadRequestError(
                f"a FAPI 2.0 client's ID tokens are signed with {' or '.join(FAPI_ID_TOKEN_ALGORITHMS)}"
            )
        options = self
        if self.jwks is not None:
            options = replace(options, jwks=validate_jwks(self.jwks))
        if self.jwks_uri is not None:
            options = replace(options, jwks_uri=validate_jwks_uri(self.jwks_uri))
        return options

    def columns(self) -> dict[str, Any]:
        return {
            "jwks": json.dumps(self.jwks) if self.jwks is not None else None,
            "jwks_uri": self.jwks_uri,
            "profile": FAPI2 if self.fapi else None,
            "require_par": self.require_par or self.fapi,
            "dpop_bound": self.dpop_only or self.fapi,
            "id_token_signed_response_alg": self.id_token_alg,
        }


def validate_jwks(document: Any) -> dict[str, Any]:
    """A JWK Set of public signing keys (RSA of 2048 bits or more, or EC), nothing private."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list) or not document["keys"]:
        raise BadRequestError('a JWK Set is a JSON object {"keys": [...]} with at least one key')
    if len(json.dumps(document)) > MAX_JWKS_LENGTH:
        raise BadRequestError("the JWK Set is too large")
    for key in document["keys"]:
        if not isinstance(key, dict) or PRIVATE_MEMBERS & key.keys():
            raise BadRequestError("the JWK Set must hold public keys only")
        if key.get("kty") not in ("RSA", "EC"):
            raise BadRequestError("the JWK Set may hold RSA and EC keys only")
    try:
        key_set = KeySet.import_key_set(document)  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError):
        raise BadRequestError("the JWK Set is not valid") from None
    for imported in key_set.keys:
        if isinstance(imported, RSAKey) and imported.raw_value.key_size < 2048:
            raise BadRequestError("RSA keys must have at least 2048 bits")
    return {"keys": [dict(key) for key in document["keys"]]}


def read_jwks_file(path: str) -> Any:
    """A JWK Set from a file, as ``--jwks FILE`` gives it (validated at registration)."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except OSError as error:
        raise BadRequestError(f"cannot read the JWK Set file {path!r}: {error.strerror}") from None
    except ValueError:
        raise BadRequestError(f"the JWK Set file {path!r} is not JSON") from None


def validate_jwks_uri(uri: str) -> str:
    parts = urlsplit(uri)
    host = parts.hostname or ""
    loopback = host in ("localhost", "127.0.0.1", "::1")
    if len(uri) > 2000 or not host or not (parts.scheme == "https" or (parts.scheme == "http" and loopback)):
        raise BadRequestError(f"a jwks_uri must be https (plain http only on loopback): {uri!r}")
    return uri


def describe_options(row: OAuthClient) -> dict[str, Any]:
    """How ``oauth-clients list`` shows them (public keys are not secrets)."""
    if row.jwks or row.jwks_uri:
        method = "private_key_jwt"
    elif row.is_public:
        method = "none"
    else:
        method = "client_secret_basic"
    return {
        "tokenEndpointAuthMethod": method,
        "profile": row.profile,
        "requirePushedAuthorizationRequests": bool(row.require_par) or row.profile == FAPI2,
        "dpopBoundAccessTokens": bool(row.dpop_bound) or row.profile == FAPI2,
        "jwksUri": row.jwks_uri,
        "idTokenSignedResponseAlg": ClientPolicy.from_row(row).id_token_algorithm,
    }
