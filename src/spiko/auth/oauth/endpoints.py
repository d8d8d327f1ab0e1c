"""The server's other endpoints, as extensions of Authlib's: revocation (RFC 7009), introspection
(RFC 7662), OpenID Connect UserInfo, and RP-initiated logout."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from authlib.oauth2.rfc6749 import ResourceProtector
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint as BaseRevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint as BaseIntrospectionEndpoint
from authlib.oidc.core import UserInfo
from authlib.oidc.core import UserInfoEndpoint as BaseUserInfoEndpoint
from authlib.oidc.rpinitiated import EndSessionEndpoint as BaseEndSessionEndpoint
from authlib.oidc.rpinitiated import EndSessionRequest

from spiko.auth.oauth import dpop_tokens, tokens
from spiko.auth.oauth.clients import find_live_client
from spiko.auth.oauth.keys import ALGORITHM, SIGNING_ALGORITHMS
from spiko.auth.oauth.requests import HttpOAuth2Request
from spiko.auth.oauth.unit import current, db, note_revocation

if TYPE_CHECKING:
    from spiko.auth.oauth.server import AuthorizationServer

KINDS = ("access_token", "refresh_token")


def _find(token_string: str, hint: str | None, *, lock: bool) -> tokens.StoredToken | None:
    order = KINDS if hint != "refresh_token" else tuple(reversed(KINDS))
    for kind in order:
        token = tokens.find_token(db(), token_string, kind, lock=lock)
        if token is not None:
            return token
    return None


class RevocationEndpoint(BaseRevocationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]

    def query_token(self, token_string: str, token_type_hint: str | None) -> tokens.StoredToken | None:
        return _find(token_string, token_type_hint, lock=True)

    def revoke_token(self, token: tokens.StoredToken, request: Any) -> None:
        if token.matched == "refresh_token":
            # RFC 7009 section 2.1: revoking a refresh token ends the access tokens of its grant too.
            tokens.revoke_grant(db(), token.grant_id, "refresh_token_revoked")
        else:
            tokens.revoke_access_token(db(), token.id)
        note_revocation()


class IntrospectionEndpoint(BaseIntrospectionEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]
    server: AuthorizationServer

    def query_token(self, token_string: str, token_type_hint: str | None) -> tokens.StoredToken | None:
        return _find(token_string, token_type_hint, lock=False)

    def check_permission(self, token: tokens.StoredToken, client: Any, request: Any) -> bool:
        # A client may introspect the tokens issued to it, and no others.
        return token.check_client(client)

    def introspect_token(self, token: tokens.StoredToken) -> dict[str, Any]:
        expires = token.refresh_expires_at if token.matched == "refresh_token" else token.access_expires_at
        body: dict[str, Any] = {
            "active": True,
            "client_id": token.client_id,
            "scope": token.scope,
            "sub": token.user.user_id,
            "aud": token.client_id,
            "iss": self.server.settings.issuer,
            "iat": int(token.issued_at.timestamp()),
            "exp": int(expires.timestamp()) if expires else None,
            "investor_id": token.user.investor_id,
        }
        if token.matched == "access_token":
            body["token_type"] = "Bearer"  # noqa: S105 - a token type, not a secret
        body.update(dpop_tokens.introspection_fields(token))
        return body


class AccessTokenValidator(BearerTokenValidator):  # type: ignore[misc]
    def authenticate_token(self, token_string: str) -> tokens.StoredToken | None:
        token = tokens.find_token(db(), token_string, "access_token")
        if token is not None:
            token.client = find_live_client(db(), token.client_id)
        return token

    def validate_token(self, token: Any, scopes: Any, request: Any) -> None:
        super().validate_token(token, scopes, request)
        dpop_tokens.refuse_bound_bearer(token)


class SpikoResourceProtector(ResourceProtector):  # type: ignore[misc]
    """Bearer tokens on the server's own OpenID endpoints (the /v1 API has its faster path)."""

    def acquire_token(self, scopes: str | list[str] | None = None) -> tokens.StoredToken:
        if isinstance(scopes, str):
            scopes = [scopes]
        request = HttpOAuth2Request(current().http)
        token: tokens.StoredToken = self.validate_request(scopes, request)
        return token


class UserInfoEndpoint(BaseUserInfoEndpoint):  # type: ignore[misc]
    server: AuthorizationServer

    def get_issuer(self) -> str:
        return self.server.settings.issuer

    def generate_user_info(self, user: tokens.GrantUser, scope: str) -> UserInfo:
        return UserInfo(sub=user.user_id)

    def get_supported_algorithms(self) -> list[str]:
        return [ALGORITHM]

    def resolve_private_key(self) -> Any:
        return self.server.keys.signing_key(db())


class EndSessionEndpoint(BaseEndSessionEndpoint):  # type: ignore[misc]
    server: AuthorizationServer

    def get_server_jwks(self) -> dict[str, Any]:
        self.server.keys.signing_key(db())  # a hint can only verify against a non-empty key set
        return self.server.keys.jwks(db())

    def get_algorithms(self) -> list[str]:
        return list(SIGNING_ALGORITHMS)

    def end_session(self, end_session_request: EndSessionRequest) -> None:
        # The browser session is ended by the route, which holds the cookies.
        current().ended_session = True
