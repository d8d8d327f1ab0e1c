"""The FAPI 2.0 Security Profile's rules, and the per-client switches they are made of.

A client registered with ``--fapi`` must push its authorization requests (RFC 9126), use PKCE
with S256, bind its tokens with DPoP (RFC 9449), authenticate with ``private_key_jwt``
(RFC 7523), and gets ID tokens signed with ES256 (by default) or PS256, the algorithms FAPI 2.0
allows (section 5.4), as registered with ``--id-token-alg``. Each part can also be asked for on
its own: ``--require-par``, ``--dpop-only``, and ``--jwks``/``--jwks-uri`` for ``private_key_jwt``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from authlib.oauth2.rfc6749 import InvalidRequestError

from spiko.auth.oauth.unit import current

if TYPE_CHECKING:
    from spiko.db.models.oauth import OAuthClient

FAPI2 = "fapi2"
SECRET_AUTH_METHODS = frozenset({"client_secret_basic", "client_secret_post"})
KEY_AUTH_METHODS = frozenset({"private_key_jwt"})
PUBLIC_AUTH_METHODS = frozenset({"none"})
FAPI_ID_TOKEN_ALGORITHM = "ES256"  # noqa: S105 - algorithm names, not secrets
DEFAULT_ID_TOKEN_ALGORITHM = "RS256"  # noqa: S105
ID_TOKEN_ALGORITHMS = ("RS256", "ES256", "PS256")  # what a client may register
FAPI_ID_TOKEN_ALGORITHMS = ("ES256", "PS256")  # FAPI 2.0 Security Profile, section 5.4


@dataclass(frozen=True)
class ClientPolicy:
    """What a client registered for itself beyond RFC 6749: keys, profile, PAR and DPoP."""

    profile: str | None = None
    require_par: bool = False
    dpop_bound: bool = False
    jwks: dict[str, Any] | None = None
    jwks_uri: str | None = None
    id_token_alg: str | None = None  # as registered; None: the profile's default

    @classmethod
    def from_row(cls, row: OAuthClient) -> ClientPolicy:
        fapi = row.profile == FAPI2
        return cls(
            profile=row.profile,
            require_par=bool(row.require_par) or fapi,
            dpop_bound=bool(row.dpop_bound) or fapi,
            jwks=json.loads(row.jwks) if row.jwks else None,
            jwks_uri=row.jwks_uri,
            id_token_alg=row.id_token_signed_response_alg,
        )

    @property
    def is_fapi(self) -> bool:
        return self.profile == FAPI2

    @property
    def has_keys(self) -> bool:
        return self.jwks is not None or self.jwks_uri is not None

    def auth_methods(self, *, is_public: bool, has_secret: bool) -> frozenset[str]:
        """The client authentication methods this client may use (RFC 7591 names)."""
        if is_public:
            return PUBLIC_AUTH_METHODS
        methods = frozenset(KEY_AUTH_METHODS if self.has_keys else ())
        if has_secret and not self.is_fapi:
            methods |= SECRET_AUTH_METHODS
        return methods

    @property
    def id_token_algorithm(self) -> str:
        if self.id_token_alg is not None:
            return self.id_token_alg
        return FAPI_ID_TOKEN_ALGORITHM if self.is_fapi else DEFAULT_ID_TOKEN_ALGORITHM


def policy_of(client: Any) -> ClientPolicy:
    policy = getattr(client, "policy", None)
    return policy if isinstance(policy, ClientPolicy) else ClientPolicy()


def check_authorization_request(request: Any, redirect_uri: str, *, server_requires_par: bool) -> None:
    """Refuse, back to the client, an authorization request its profile does not allow."""
    policy = policy_of(request.client)
    state = request.payload.state
    unit = current()
    pushed = unit.pushed_request is not None or unit.pushing
    if (policy.require_par or server_requires_par) and not pushed:
        raise InvalidRequestError(
            "This client must push its authorization requests first (PAR, RFC 9126): "
            "send client_id and request_uri only.",
            redirect_uri=redirect_uri,
            state=state,
        )
    if policy.is_fapi:
        data = request.payload.data
        if not data.get("code_challenge") or data.get("code_challenge_method") != "S256":
            raise InvalidRequestError(
                "FAPI 2.0 clients must use PKCE with code_challenge_method=S256.",
                redirect_uri=redirect_uri,
                state=state,
            )
