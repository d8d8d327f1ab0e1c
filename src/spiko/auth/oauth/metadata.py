"""Discovery documents: RFC 8414 authorization server metadata and OpenID Connect Discovery 1.0.

They advertise what this server implements, and nothing else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from authlib.oidc.discovery import OpenIDProviderMetadata

from spiko.auth.oauth.client_auth import ASSERTION_ALGORITHMS
from spiko.auth.oauth.dpop import SIGNING_ALGORITHMS as DPOP_ALGORITHMS
from spiko.auth.oauth.fapi import ID_TOKEN_ALGORITHMS
from spiko.auth.oauth.scopes import SUPPORTED_SCOPES

if TYPE_CHECKING:
    from spiko.config import Settings

CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]


def fapi_metadata(issuer: str, settings: Settings | None) -> dict[str, Any]:
    """PAR (RFC 9126), DPoP (RFC 9449), the issuer in authorization responses (RFC 9207), and
    ``private_key_jwt`` (RFC 7523)."""
    return {
        "pushed_authorization_request_endpoint": f"{issuer}/oauth2/par",
        "require_pushed_authorization_requests": bool(
            settings and settings.require_pushed_authorization_requests
        ),
        "dpop_signing_alg_values_supported": list(DPOP_ALGORITHMS),
        "authorization_response_iss_parameter_supported": True,
        "token_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGORITHMS),
        "revocation_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGORITHMS),
        "introspection_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGORITHMS),
    }


def authorization_server_metadata(
    issuer: str, settings: Settings | None = None
) -> AuthorizationServerMetadata:
    return AuthorizationServerMetadata(
        {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/oauth2/auth",
            "token_endpoint": f"{issuer}/oauth2/token",
            "jwks_uri": f"{issuer}/.well-known/jwks.json",
            "scopes_supported": list(SUPPORTED_SCOPES),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
            "revocation_endpoint": f"{issuer}/oauth2/revoke",
            "revocation_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
            "introspection_endpoint": f"{issuer}/oauth2/introspect",
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["plain", "S256"],
            **fapi_metadata(issuer, settings),
        }
    )


def openid_configuration(issuer: str, settings: Settings | None = None) -> OpenIDProviderMetadata:
    document: dict[str, Any] = dict(authorization_server_metadata(issuer, settings))
    document.update(
        {
            "userinfo_endpoint": f"{issuer}/userinfo",
            "end_session_endpoint": f"{issuer}/oauth2/sessions/logout",
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": list(ID_TOKEN_ALGORITHMS),
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash"],
            "request_parameter_supported": False,
            "request_uri_parameter_supported": False,
            "claims_parameter_supported": False,
        }
    )
    return OpenIDProviderMetadata(document)
