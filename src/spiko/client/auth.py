"""Credentials as ``httpx.Auth`` flows: API keys (Basic) and OAuth 2.0 (Bearer, refreshed by itself).

``OAuth2Session`` implements the client side of the authorization code grant (RFC 6749 §4.1)
with PKCE S256 (RFC 7636), token refresh with rotation (RFC 6749 §6), and hands every new token
to ``on_token`` so the integrator can store it: once a refresh token has been used, only the new
one works.

FAPI 2.0 by flags: ``dpop=True`` binds the tokens to a key pair made for the session and kept
in the token (``dpop_jwk``), so a stored token keeps working, and sends a DPoP proof (RFC 9449)
with every token request and API call, following the server's nonces; ``par=True`` pushes the
authorization request first (RFC 9126); ``client_jwk`` (a private JWK the app registered the
public half of) authenticates the app with ``private_key_jwt`` (RFC 7523). The ``iss`` of the
authorization response (RFC 9207) is checked whenever the server sends it, and required with PAR.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
import threading
import time
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import httpx

from spiko.client.dpop import DPoPSigner, client_assertion
from spiko.client.errors import AuthorizationDeniedError, OAuth2Error, StateMismatchError, error_from_response

Token = dict[str, Any]

# Refresh this long before the access token expires (at most a tenth of its lifetime), so a
# request never leaves with a token that dies on the way.
DEFAULT_REFRESH_LEEWAY = 30.0


class ApiKeyAuth(httpx.Auth):
    """An API key: HTTP Basic with ``client_id`` as user name and ``client_secret`` as password."""

    def __init__(self, client_id: str, client_secret: str) -> None:
        self.client_id = client_id
        raw = f"{client_id}:{client_secret}".encode()
        self._header = "Basic " + base64.b64encode(raw).decode("ascii")

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request

    def __repr__(self) -> str:
        return f"ApiKeyAuth(client_id={self.client_id!r}, client_secret='***')"


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class OAuth2Session(httpx.Auth):
    """An OAuth 2.0 client session for one investor: authorize, exchange the code, then use it as
    ``auth=`` of a client; it refreshes the access token before it expires and once on a 401.

    Give ``client_secret`` for a confidential client (authenticated with HTTP Basic), or leave it
    ``None`` for a public client (PKCE only). ``token`` restores a stored token; ``on_token`` is
    called with every new token (after ``exchange`` and after every refresh) and must store it:
    refresh tokens rotate. Refreshes are serialized across threads and asyncio tasks; a request
    that waited for another one's refresh uses the new token instead of refreshing again.
    """

    def __init__(
        self,
        issuer: str,
        client_id: str,
        client_secret: str | None = None,
        redirect_uri: str = "http://127.0.0.1:8765/callback",
        scope: str = "offline",
        token: Token | None = None,
        on_token: Callable[[Token], None] | None = None,
        *,
        authorization_endpoint: str | None = None,
        token_endpoint: str | None = None,
        revocation_endpoint: str | None = None,
        refresh_leeway: float = DEFAULT_REFRESH_LEEWAY,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        dpop: bool = False,
        par: bool = False,
        client_jwk: dict[str, Any] | None = None,
        pushed_authorization_request_endpoint: str | None = None,
        dpop_algorithm: str = "PS256",
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self._client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.scope = scope
        self.on_token = on_token
        self.authorization_endpoint = authorization_endpoint or self.issuer + "/oauth2/auth"
        self.token_endpoint = token_endpoint or self.issuer + "/oauth2/token"
        self.revocation_endpoint = revocation_endpoint or self.issuer + "/oauth2/revoke"
        self.par_endpoint = pushed_authorization_request_endpoint or self.issuer + "/oauth2/par"
        self.par = par
        self._client_jwk = dict(client_jwk) if client_jwk else None
        stored_key = (token or {}).get("dpop_jwk")
        self._dpop = DPoPSigner(stored_key, dpop_algorithm) if dpop or stored_key else None
        self.refresh_leeway = refresh_leeway
        self._timeout = timeout
        self._transport = transport
        self._token: Token | None = dict(token) if token else None
        self._pending: tuple[str, str] | None = None  # (state, code_verifier) of the last authorization URL
        self._lock = threading.Lock()
        self._async_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self.refresh_count = 0  # refreshes this session made (useful in logs and tests)

    def __repr__(self) -> str:
        return f"OAuth2Session(issuer={self.issuer!r}, client_id={self.client_id!r})"

    # --- the authorization code flow ------------------------------------------------------

    @property
    def token(self) -> Token | None:
        """The current token (``access_token``, ``refresh_token``, ``expires_at`` in epoch seconds, ...)."""
        return None if self._token is None else dict(self._token)

    def authorization_url(self, **extra_params: str) -> str:
        """The URL to send the investor's browser to, with a fresh ``state`` and a PKCE S256 challenge.

        The session remembers both; ``exchange`` accepts only a callback carrying this ``state``.
        """
        state = secrets.token_urlsafe(24)
        verifier = secrets.token_urlsafe(64)
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": self.scope,
            "state": state,
            "code_challenge": _s256(verifier),
            "code_challenge_method": "S256",
            **extra_params,
        }
        if self.par:
            params = {"client_id": self.client_id, "request_uri": self._push(params)}
        self._pending = (state, verifier)
        return f"{self.authorization_endpoint}?{urlencode(params)}"

    def _push(self, params: dict[str, str]) -> str:
        """Push the authorization request (RFC 9126); the ``request_uri`` the browser will carry."""
        with httpx.Client(timeout=self._timeout, transport=self._transport) as http:
            for _ in range(2):
                response = http.send(self._token_request(params, self.par_endpoint))
                if not self._asked_for_nonce(response):
                    break
        if response.status_code != 201:
            raise self._error(response)
        request_uri = response.json().get("request_uri")
        if not isinstance(request_uri, str):
            raise OAuth2Error("the PAR endpoint answered without a request_uri", tag="invalid_response")
        return request_uri

    def _code_from_callback(self, callback_url: str) -> tuple[str, str]:
        """Check the callback's ``state`` and return (code, code_verifier); sends nothing."""
        query = parse_qs(urlsplit(callback_url).query)
        state = (query.get("state") or [""])[0]
        pending, self._pending = self._pending, None  # one callback per authorization URL
        if pending is None:
            raise StateMismatchError("no authorization in progress: call authorization_url() first")
        expected_state, verifier = pending
        if not state or not hmac.compare_digest(state.encode(), expected_state.encode()):
            raise StateMismatchError("the callback's state does not match the one this session sent")
        issuer: str | None = (query.get("iss") or [""])[0] or None
        if (issuer is not None or self.par) and issuer != self.issuer:
            # RFC 9207: a response from another server (a mix-up attack) is never redeemed here.
            raise OAuth2Error("the authorization response comes from another issuer", tag="invalid_issuer")
        if "error" in query:
            fields: dict[str, str | None] = {
                "error": query["error"][0],
                "error_description": (query.get("error_description") or [""])[0] or None,
            }
            raise AuthorizationDeniedError(tag=query["error"][0], fields=fields)
        code = (query.get("code") or [""])[0]
        if not code:
            raise OAuth2Error("the callback carries no code", tag="invalid_request")
        return code, verifier

    def _code_request(self, code: str, verifier: str) -> httpx.Request:
        return self._token_request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.redirect_uri,
                "code_verifier": verifier,
            }
        )

    def exchange(self, callback_url: str) -> Token:
        """Check the ``state`` of the URL the browser came back to, redeem its code and return the token."""
        code, verifier = self._code_from_callback(callback_url)
        with httpx.Client(timeout=self._timeout, transport=self._transport) as http:
            response = http.send(self._code_request(code, verifier))
            if self._asked_for_nonce(response):
                response = http.send(self._code_request(code, verifier))
        return self._accept(response)

    async def aexchange(self, callback_url: str) -> Token:
        """``exchange`` for asyncio code."""
        code, verifier = self._code_from_callback(callback_url)
        async with httpx.AsyncClient(timeout=self._timeout) as http:
            response = await http.send(self._code_request(code, verifier))
            if self._asked_for_nonce(response):
                response = await http.send(self._code_request(code, verifier))
        return self._accept(response)

    def refresh(self) -> Token:
        """Refresh the access token now (normally done by itself) and return the new token."""
        with self._lock, httpx.Client(timeout=self._timeout, transport=self._transport) as http:
            response = http.send(self._refresh_request())
            if self._asked_for_nonce(response):
                response = http.send(self._refresh_request())
            self.refresh_count += 1
            return self._accept(response)

    def revoke(self) -> None:
        """Revoke the session's grant at the server (RFC 7009) and forget the token.

        Revoking the refresh token ends every access token of the grant too; without a refresh
        token, the access token is revoked.
        """
        with self._lock:
            if self._token is None:
                return
            refresh_token = self._token.get("refresh_token")
            hint = "refresh_token" if refresh_token else "access_token"
            form = {"token": refresh_token or self._token.get("access_token", ""), "token_type_hint": hint}
            request = self._token_request(form, self.revocation_endpoint)
            with httpx.Client(timeout=self._timeout, transport=self._transport) as http:
                response = http.send(request)
            if response.status_code != 200:
                raise error_from_response(response)
            self._token = None

    # --- token requests -------------------------------------------------------------------

    def _token_request(self, form: dict[str, str], url: str | None = None) -> httpx.Request:
        """A form POST to the token endpoint (or ``url``), with this client's authentication."""
        headers = {"Accept": "application/json"}
        url = url or self.token_endpoint
        if self._dpop is not None and url != self.revocation_endpoint:
            headers["DPoP"] = self._dpop.proof("POST", url)
        if self._client_jwk is not None:
            form = {**form, **client_assertion(self.client_id, self._client_jwk, self.issuer)}
        elif self._client_secret is not None:
            # client_secret_basic: both parts form-encoded first (RFC 6749 §2.3.1).
            raw = f"{quote(self.client_id, safe='')}:{quote(self._client_secret, safe='')}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(raw).decode("ascii")
        else:
            form = {**form, "client_id": self.client_id}
        return httpx.Request("POST", url, data=form, headers=headers)

    def _refresh_request(self) -> httpx.Request:
        refresh_token = (self._token or {}).get("refresh_token")
        if not refresh_token:
            raise OAuth2Error("no refresh token: authorize again", tag="invalid_grant")
        return self._token_request(
            {"grant_type": "refresh_token", "refresh_token": refresh_token, "redirect_uri": self.redirect_uri}
        )

    def _asked_for_nonce(self, response: httpx.Response) -> bool:
        """Keep a DPoP nonce the server sent; True when the request must go again with it."""
        if self._dpop is None:
            return False
        changed = self._dpop.remember_nonce(str(response.request.url), response.headers.get("dpop-nonce"))
        if response.status_code == 401:
            return changed and "use_dpop_nonce" in response.headers.get("www-authenticate", "")
        at_the_server = str(response.request.url) in (self.token_endpoint, self.par_endpoint)
        if response.status_code != 400 or not at_the_server:
            return False
        response.read()  # token and PAR answers are read already; this only returns the body
        try:
            body = response.json()
        except ValueError:
            return False
        return changed and isinstance(body, dict) and body.get("error") == "use_dpop_nonce"

    @staticmethod
    def _error(response: httpx.Response) -> OAuth2Error:
        error = error_from_response(response)
        if not isinstance(error, OAuth2Error):
            error = OAuth2Error(str(error), tag="token_error", status=response.status_code, response=response)
        return error

    def _accept(self, response: httpx.Response) -> Token:
        if response.status_code != 200:
            raise self._error(response)
        body = response.json()
        if not isinstance(body, dict) or "access_token" not in body:
            raise OAuth2Error("the token endpoint answered without an access token", tag="invalid_response")
        token: Token = dict(body)
        if "expires_in" in token:
            token["expires_at"] = int(time.time()) + int(token["expires_in"])
        if "refresh_token" not in token and self._token and self._token.get("refresh_token"):
            token["refresh_token"] = self._token["refresh_token"]
        if self._dpop is not None:
            token["dpop_jwk"] = self._dpop.private_jwk  # the key the tokens are bound to
        self._token = token
        if self.on_token is not None:
            self.on_token(dict(token))
        return dict(token)

    # --- the httpx.Auth flow ------------------------------------------------------------

    def _access_token(self) -> str | None:
        return None if self._token is None else self._token.get("access_token")

    def _can_refresh(self) -> bool:
        return bool(self._token and self._token.get("refresh_token"))

    def _expiring(self) -> bool:
        if not self._can_refresh():
            return False
        assert self._token is not None
        expires_at = self._token.get("expires_at")
        if expires_at is None:
            return False
        lifetime = float(self._token.get("expires_in") or self.refresh_leeway * 10)
        margin = min(self.refresh_leeway, lifetime / 10)
        return time.time() >= float(expires_at) - margin

    def _authorize(self, request: httpx.Request) -> str | None:
        access_token = self._access_token()
        if access_token is None:
            raise OAuth2Error("no token yet: run authorization_url() and exchange() first", tag="no_token")
        token_type = str((self._token or {}).get("token_type", "")).lower()
        if self._dpop is not None and token_type == "dpop":  # noqa: S105 - a token type
            request.headers["Authorization"] = f"DPoP {access_token}"
            request.headers["DPoP"] = self._dpop.proof(request.method, str(request.url), access_token)
        else:
            request.headers["Authorization"] = f"Bearer {access_token}"
        return access_token

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._expiring():
            with self._lock:
                if self._expiring():  # unless another thread refreshed while this one waited
                    yield from self._sync_refresh()
        sent_with = self._authorize(request)
        response = yield request
        if self._asked_for_nonce(response):
            self._authorize(request)
            response = yield request
        if response.status_code == 401 and self._can_refresh():
            with self._lock:
                if self._access_token() == sent_with:  # unless another thread refreshed meanwhile
                    yield from self._sync_refresh()
            self._authorize(request)
            yield request

    def _sync_refresh(self) -> Generator[httpx.Request, httpx.Response, None]:
        response = yield self._refresh_request()
        response.read()
        if self._asked_for_nonce(response):
            response = yield self._refresh_request()
            response.read()
        self.refresh_count += 1
        self._accept(response)

    @asynccontextmanager
    async def _async_guard(self) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        lock = self._async_locks.get(loop)
        if lock is None:
            lock = self._async_locks.setdefault(loop, asyncio.Lock())
        async with lock:
            # Other threads (or other event loops) refresh under the thread lock: wait for it
            # without blocking this loop.
            while not self._lock.acquire(blocking=False):
                await asyncio.sleep(0.005)
            try:
                yield
            finally:
                self._lock.release()

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if self._expiring():
            async with self._async_guard():
                if self._expiring():
                    response = yield self._refresh_request()
                    await response.aread()
                    if self._asked_for_nonce(response):
                        response = yield self._refresh_request()
                        await response.aread()
                    self.refresh_count += 1
                    self._accept(response)
        sent_with = self._authorize(request)
        response = yield request
        if self._asked_for_nonce(response):
            self._authorize(request)
            response = yield request
        if response.status_code == 401 and self._can_refresh():
            async with self._async_guard():
                if self._access_token() == sent_with:
                    refreshed = yield self._refresh_request()
                    await refreshed.aread()
                    if self._asked_for_nonce(refreshed):
                        refreshed = yield self._refresh_request()
                        await refreshed.aread()
                    self.refresh_count += 1
                    self._accept(refreshed)
            self._authorize(request)
            yield request
