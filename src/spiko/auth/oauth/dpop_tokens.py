"""DPoP-bound tokens (RFC 9449 sections 5 to 7): binding at the token endpoint, and the proof a
bound access token needs wherever it is presented (``/userinfo`` here, ``/v1`` in
``spiko.auth.dpop_bearer``).

At the token endpoint a grant extension runs once the client is authenticated and the code or
refresh token is known: a DPoP proof (if sent) is checked and its key becomes the binding of the
tokens issued; a client registered as DPoP-only must send one; a code pushed with a key
(``dpop_jkt``), and a refresh token bound to a key, are redeemed only with a proof of that key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from authlib.oauth2.rfc6749 import InvalidRequestError, OAuth2Error
from authlib.oauth2.rfc6750 import BearerTokenValidator, InvalidTokenError

from spiko.auth.oauth import tokens
from spiko.auth.oauth.clients import find_live_client
from spiko.auth.oauth.dpop import DPoPProofError
from spiko.auth.oauth.fapi import policy_of
from spiko.auth.oauth.unit import current, db

if TYPE_CHECKING:
    from spiko.auth.oauth.server import AuthorizationServer

TOKEN_PATH = "/oauth2/token"  # noqa: S105 - a path, not a secret
TOKEN_TYPE = "DPoP"  # noqa: S105 - a token type, not a secret


class DPoPError(OAuth2Error):  # type: ignore[misc]
    """``invalid_dpop_proof`` or ``use_dpop_nonce`` at the token endpoint (section 5), with the nonce."""

    status_code = 400

    def __init__(self, refused: DPoPProofError) -> None:
        super().__init__(refused.description, error=refused.error)
        self.nonce = refused.nonce

    def get_headers(self) -> list[tuple[str, str]]:
        headers: list[tuple[str, str]] = list(super().get_headers())
        if self.nonce:
            headers.append(("DPoP-Nonce", self.nonce))
        return headers


def single_proof(headers: Any) -> str | None:
    proofs = headers.getlist("dpop") if hasattr(headers, "getlist") else []
    if len(proofs) > 1:
        raise DPoPProofError("Send exactly one DPoP header.")
    return proofs[0] if proofs else None


class TokenBinding:
    """An Authlib grant extension: checks the DPoP proof of a token request and binds the tokens."""

    def __init__(self, server: AuthorizationServer) -> None:
        self.server = server

    def __call__(self, grant: Any) -> None:
        # Once the request is validated (client, code or refresh token), before tokens are made.
        grant.register_hook("before_create_token_response", self.bind)

    def bind(self, grant: Any) -> None:
        request = grant.request
        try:
            proof = single_proof(request.headers)
            jkt = None
            if proof is not None:
                verified = self.server.dpop.verify(
                    proof, method="POST", url=self.server.settings.issuer + TOKEN_PATH, session=db()
                )
                jkt = verified.jkt
        except DPoPProofError as refused:
            raise DPoPError(refused) from None
        if jkt is None and policy_of(request.client).dpop_bound:
            raise InvalidRequestError("This client must bind its tokens with DPoP: send a DPoP proof.")
        required = _required_key(request)
        if required is not None and required != jkt:
            raise DPoPError(DPoPProofError("The DPoP proof is not made with the key this grant is bound to."))
        current().dpop_jkt = jkt


def _required_key(request: Any) -> str | None:
    code = getattr(request, "authorization_code", None)
    if code is not None:
        return getattr(code.row, "dpop_jkt", None)
    refresh = getattr(request, "refresh_token", None)
    if isinstance(refresh, tokens.StoredToken):
        return refresh.dpop_jkt
    return None


def introspection_fields(token: tokens.StoredToken) -> dict[str, Any]:
    """``cnf`` (RFC 9449 section 6.2) and the token type of a bound token."""
    if not token.dpop_jkt:
        return {}
    fields: dict[str, Any] = {"cnf": {"jkt": token.dpop_jkt}}
    if token.matched == "access_token":
        fields["token_type"] = TOKEN_TYPE
    return fields


class BoundTokenRefused(InvalidTokenError):  # type: ignore[misc]
    """A bound token presented as Bearer, or without a valid proof (section 7.1)."""

    def __init__(self, description: str, realm: Any = None, **extra: Any) -> None:
        super().__init__(description=description, realm=realm, **extra)


class DPoPAccessTokenValidator(BearerTokenValidator):  # type: ignore[misc]
    """``Authorization: DPoP <token>`` with a ``DPoP`` proof, on the server's own endpoints."""

    TOKEN_TYPE = "dpop"  # noqa: S105 - a token type, not a secret

    def __init__(self, server: AuthorizationServer) -> None:
        super().__init__()
        self.server = server

    def authenticate_token(self, token_string: str) -> tokens.StoredToken | None:
        token = tokens.find_token(db(), token_string, "access_token")
        if token is not None:
            token.client = find_live_client(db(), token.client_id)
        return token

    def validate_token(self, token: Any, scopes: Any, request: Any) -> None:
        super().validate_token(token, scopes, request)
        if not token.dpop_jkt:
            raise BoundTokenRefused("This access token is not DPoP-bound: send it as Bearer.")
        http = current().http
        try:
            proof = single_proof(http.headers)
            if proof is None:
                raise DPoPProofError("A DPoP-bound access token needs a DPoP proof.")
            _, _, raw = http.headers.get("authorization", "").partition(" ")
            verified = self.server.dpop.verify(
                proof,
                method=http.method,
                url=http.uri,
                access_token=raw.strip(),
                replay=self.server.replay,
            )
        except DPoPProofError as refused:
            raise BoundTokenRefused(refused.description) from None
        if verified.jkt != token.dpop_jkt:
            raise BoundTokenRefused("The DPoP proof is not made with the key this token is bound to.")


def refuse_bound_bearer(token: Any) -> None:
    """Section 7.2: a bound access token presented as a plain Bearer token is refused."""
    if token is not None and getattr(token, "dpop_jkt", None):
        raise BoundTokenRefused(
            "This access token is DPoP-bound: send it with Authorization: DPoP and a proof."
        )
