"""Helpers that drive the OAuth flow through HTTP, as a browser and a client app would."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests import world
from tests.world import csrf_token

REDIRECT_URI = "http://127.0.0.1:8765/callback"


@dataclass
class RegisteredApp:
    client_id: str
    client_secret: str | None
    redirect_uri: str

    @property
    def basic(self) -> dict[str, str]:
        raw = f"{self.client_id}:{self.client_secret}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def register_app(
    ctx: Any, *, name: str = "Budget Buddy", public: bool = False, redirect_uris: list[str] | None = None
) -> RegisteredApp:
    from spiko.auth.oauth.clients import register_client

    uris = redirect_uris or [REDIRECT_URI]
    with ctx.transaction() as session:
        created = register_client(session, name=name, redirect_uris=uris, public=public)
    return RegisteredApp(created.client_id, created.client_secret, uris[0])


def sign_in(client: Any, email: str, password: str) -> None:
    response = world.sign_in(client, email, password, next_path="/integrations")
    assert response.status_code == 303, response.text


def sign_in_from(browser: Any, location: str, investor: Any) -> str:
    """Follow a redirect to the sign-in form, sign in, and return where the form sends the browser."""
    assert urlsplit(location).path == "/login"
    target = parse_qs(urlsplit(location).query)["next"][0]
    page = browser.get(location)
    assert page.status_code == 200 and 'name="password"' in page.text
    signed_in = browser.post(
        "/login",
        data={
            "email": investor.email,
            "password": investor.password,
            "csrf_token": csrf_token(page.text),
            "next": target,
        },
        follow_redirects=False,
    )
    assert signed_in.status_code == 303, signed_in.text
    assert signed_in.headers["location"] == target
    return target


def new_state() -> str:
    return secrets.token_urlsafe(16)


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_path(app: RegisteredApp, **params: str | None) -> str:
    query: dict[str, str] = {
        "client_id": app.client_id,
        "redirect_uri": app.redirect_uri,
        "response_type": "code",
        "scope": "offline",
        "state": new_state(),
    }
    for key, value in params.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return "/oauth2/auth?" + urlencode(query)


def decide(client: Any, path: str, decision: str = "allow") -> Any:
    """Open the authorization URL; answer the consent page if it shows. Returns the last response."""
    response = client.get(path, follow_redirects=False)
    if response.status_code == 200 and 'name="decision"' in response.text:
        response = client.post(
            path, data={"csrf_token": csrf_token(response.text), "decision": decision}, follow_redirects=False
        )
    return response


def redirect_params(response: Any) -> dict[str, str]:
    assert response.status_code in (302, 303), (response.status_code, response.text[:500])
    location = response.headers["location"]
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def obtain_code(client: Any, app: RegisteredApp, **params: str | None) -> str:
    state = params.pop("state", None) or new_state()
    response = decide(client, authorize_path(app, state=state, **params))
    answer = redirect_params(response)
    assert answer.get("state") == state, answer
    assert "code" in answer, answer
    return answer["code"]


def exchange(
    client: Any, app: RegisteredApp, code: str, *, headers: dict[str, str] | None = None, **extra: str
) -> Any:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": app.redirect_uri, **extra}
    sent = {**(app.basic if app.client_secret else {}), **(headers or {})}
    if not app.client_secret:
        data.setdefault("client_id", app.client_id)
    return client.post("/oauth2/token", data=data, headers=sent)


def refresh(client: Any, app: RegisteredApp, refresh_token: str, **extra: str) -> Any:
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token, **extra}
    headers = app.basic if app.client_secret else {}
    if not app.client_secret:
        data.setdefault("client_id", app.client_id)
    return client.post("/oauth2/token", data=data, headers=headers)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def tokens_for(client: Any, app: RegisteredApp, **params: str | None) -> dict[str, Any]:
    code = obtain_code(client, app, **params)
    response = exchange(client, app, code)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
