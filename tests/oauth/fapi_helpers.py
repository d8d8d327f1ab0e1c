"""What a FAPI 2.0 client does, written plainly for tests: DPoP proofs (RFC 9449), client
assertions (RFC 7523), pushed authorization requests (RFC 9126)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from joserfc import jws, jwt
from joserfc.jwk import ECKey

from tests.oauth.helpers import (
    REDIRECT_URI,
    RegisteredApp,
    csrf_token,
    new_state,
    pkce_pair,
    redirect_params,
)

PAR_PATH = "/oauth2/par"
TOKEN_PATH = "/oauth2/token"


class DPoPKey:
    """A client's DPoP key pair, signing one proof per request."""

    def __init__(self) -> None:
        self.key = ECKey.generate_key("P-256", private=True)
        self.public = self.key.as_dict(private=False)
        self.jkt = self.key.thumbprint()

    def proof(
        self,
        method: str,
        url: str,
        *,
        access_token: str | None = None,
        nonce: str | None = None,
        iat: float | None = None,
        jti: str | None = None,
        typ: str = "dpop+jwt",
    ) -> str:
        claims: dict[str, Any] = {
            "jti": jti or secrets.token_urlsafe(16),
            "htm": method,
            "htu": url,
            "iat": int(time.time() if iat is None else iat),
        }
        if access_token is not None:
            digest = hashlib.sha256(access_token.encode()).digest()
            claims["ath"] = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        if nonce is not None:
            claims["nonce"] = nonce
        header = {"alg": "ES256", "typ": typ, "jwk": self.public}
        return jws.serialize_compact(header, json.dumps(claims).encode(), self.key)


@dataclass
class KeyedApp:
    """A client registered with a JWK Set, authenticating with private_key_jwt."""

    client_id: str
    redirect_uri: str
    key: ECKey
    issuer: str
    extra: dict[str, Any] = field(default_factory=dict)

    def assertion(self, *, aud: str | None = None, jti: str | None = None, lifetime: int = 60) -> str:
        now = int(time.time())
        claims = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": aud or self.issuer,
            "jti": jti or secrets.token_urlsafe(16),
            "iat": now,
            "exp": now + lifetime,
        }
        return jwt.encode({"alg": "ES256", "kid": self.key.kid}, claims, self.key)

    def auth_form(self, **assertion: Any) -> dict[str, str]:
        return {
            "client_id": self.client_id,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": self.assertion(**assertion),
        }


def client_key() -> ECKey:
    generated = ECKey.generate_key("P-256", private=True)
    return ECKey.import_key(generated.as_dict(private=True), parameters={"kid": generated.thumbprint()})


def public_jwks(key: ECKey) -> dict[str, Any]:
    return {"keys": [{**key.as_dict(private=False), "kid": key.kid, "use": "sig", "alg": "ES256"}]}


def register_keyed_app(ctx: Any, *, name: str = "Open Finance Co", **options: Any) -> KeyedApp:
    from spiko.auth.oauth.clients import register_client
    from spiko.auth.oauth.registration import ClientOptions

    key = client_key()
    with ctx.transaction() as session:
        created = register_client(
            session,
            name=name,
            redirect_uris=[REDIRECT_URI],
            public=False,
            options=ClientOptions(jwks=public_jwks(key), **options),
        )
    assert created.client_secret is None
    return KeyedApp(created.client_id, REDIRECT_URI, key, ctx.settings.issuer)


def dpop_nonce(client: Any, issuer: str, key: DPoPKey, app: Any) -> str:
    """The server's current nonce, as a client learns it: from a refused first proof."""
    data: dict[str, str] = {}
    headers = {"DPoP": key.proof("POST", issuer + PAR_PATH)}
    if isinstance(app, KeyedApp):
        data.update(app.auth_form())
    else:
        headers.update(app.basic)
    response = client.post(PAR_PATH, data=data, headers=headers)
    assert response.status_code == 400 and response.json()["error"] == "use_dpop_nonce", response.text
    return str(response.headers["DPoP-Nonce"])


def authorization_params(app: Any, **params: str | None) -> tuple[dict[str, str], str, str]:
    """Parameters of an authorization request with PKCE S256; returns (params, state, verifier)."""
    verifier, challenge = pkce_pair()
    state = new_state()
    query: dict[str, str] = {
        "client_id": app.client_id,
        "redirect_uri": app.redirect_uri,
        "response_type": "code",
        "scope": "offline openid",
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "nonce": secrets.token_urlsafe(12),
    }
    for key, value in params.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return query, state, verifier


def push(
    client: Any, params: dict[str, str], auth: dict[str, str], headers: dict[str, str] | None = None
) -> Any:
    """POST the authorization request to the PAR endpoint, with the client's authentication."""
    form = {**params, **{k: v for k, v in auth.items() if k != "Authorization"}}
    sent = {k: v for k, v in auth.items() if k == "Authorization"}
    return client.post(PAR_PATH, data=form, headers={**sent, **(headers or {})})


def consent_to(browser: Any, path: str) -> dict[str, str]:
    """Open the authorization URL in the signed-in browser, allow, and read the redirect."""
    response = browser.get(path, follow_redirects=False)
    if response.status_code == 200 and 'name="decision"' in response.text:
        response = browser.post(
            path, data={"csrf_token": csrf_token(response.text), "decision": "allow"}, follow_redirects=False
        )
    return redirect_params(response)


def pushed_path(client_id: str, request_uri: str) -> str:
    return "/oauth2/auth?" + urlencode({"client_id": client_id, "request_uri": request_uri})


def basic_of(app: RegisteredApp) -> dict[str, str]:
    return app.basic
