"""The OAuth 2.0 authorization server: Authlib's, assembled from the grants and endpoints this
server supports, with the glue to HTTP (``requests``: no web framework) and to the database that
Authlib leaves to frameworks. A new grant is registered here, in ``__init__``, and nowhere else."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from authlib.common.urls import add_params_to_uri
from authlib.oauth2 import AuthorizationServer as BaseAuthorizationServer
from authlib.oauth2.rfc6749 import OAuth2Error, OAuth2Request
from authlib.oauth2.rfc6750 import BearerTokenGenerator

from spiko.auth.oauth import grants, limits, par, tokens
from spiko.auth.oauth.client_auth import PrivateKeyJwt
from spiko.auth.oauth.clients import Client, LiveClients, find_live_client
from spiko.auth.oauth.dpop import ProofVerifier
from spiko.auth.oauth.dpop_tokens import TOKEN_TYPE, DPoPAccessTokenValidator, TokenBinding
from spiko.auth.oauth.endpoints import (
    AccessTokenValidator,
    EndSessionEndpoint,
    IntrospectionEndpoint,
    RevocationEndpoint,
    SpikoResourceProtector,
    UserInfoEndpoint,
)
from spiko.auth.oauth.keys import KeyRing
from spiko.auth.oauth.replay import make_replay_store, make_resource_replay_store
from spiko.auth.oauth.requests import HttpJsonRequest, HttpOAuth2Request, HttpRequest, OAuthResponse
from spiko.auth.oauth.scopes import SUPPORTED_SCOPES, grants_offline_access
from spiko.auth.oauth.unit import UnitOfWork, bind, current, db, unbind
from spiko.auth.secrets import constant_time_equals, random_token

if TYPE_CHECKING:
    from spiko.context import AppContext

T = TypeVar("T")

# Authlib logs issued tokens at DEBUG level; no configuration of ours may ever let them through.
logging.getLogger("authlib").setLevel(logging.INFO)


class TokenGenerator(BearerTokenGenerator):  # type: ignore[misc]
    """Opaque random tokens; a refresh token only when ``offline`` or ``offline_access`` was granted."""

    def __init__(self, access_token_ttl_seconds: int) -> None:
        super().__init__(
            access_token_generator=lambda **_: tokens.ACCESS_TOKEN_PREFIX + random_token(32),
            refresh_token_generator=lambda **_: tokens.REFRESH_TOKEN_PREFIX + random_token(32),
            expires_generator=lambda client, grant_type: access_token_ttl_seconds,
        )

    def generate(
        self,
        grant_type: str,
        client: Client,
        user: Any = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        include = include_refresh_token and grants_offline_access(scope)
        token: dict[str, Any] = super().generate(grant_type, client, user, scope, expires_in, include)
        if current().dpop_jkt is not None:
            token["token_type"] = TOKEN_TYPE  # RFC 9449 section 5
        return token


class StaleClient(Exception):  # noqa: N818 - a condition, not an error shown to anyone
    """A client the token endpoint took from the cache is revoked or has a new secret in the
    database: the request is answered again, in a new transaction, without the cache."""

    def __init__(self, client_id: str) -> None:
        super().__init__(client_id)
        self.client_id = client_id


def _same_digest(stored: str | None, cached: str | None) -> bool:
    if stored is None or cached is None:
        return stored is cached
    return constant_time_equals(stored, cached)


@functools.cache
def _client_state() -> Any:
    from sqlalchemy import Table, bindparam, select

    from spiko.db.models.oauth import OAuthClient

    table = OAuthClient.__table__
    assert isinstance(table, Table)
    return select(table.c.revoked_at, table.c.secret_hash).where(table.c.id == bindparam("pk"))


class AuthorizationServer(BaseAuthorizationServer):  # type: ignore[misc]
    def __init__(self, ctx: AppContext) -> None:
        super().__init__(scopes_supported=SUPPORTED_SCOPES)
        self.ctx = ctx
        self.settings = ctx.settings
        self.keys = KeyRing(ctx.settings)
        self.access_tokens = tokens.AccessTokenVerifier(ctx)
        self.live_clients = LiveClients(ctx)  # for introspection's fast path
        self.replay = make_replay_store(ctx)  # single-use jti of DPoP proofs and client assertions
        self.dpop = ProofVerifier(ctx.settings, self.replay)
        self.resource_replay = make_resource_replay_store(ctx)  # proofs on /v1
        self.par_purge = par.Purge()
        self.register_token_generator("default", TokenGenerator(ctx.settings.access_token_ttl_seconds))
        self.register_client_auth_method("private_key_jwt", PrivateKeyJwt(self))
        self.register_grant(
            grants.AuthorizationCodeGrant,
            [grants.ProofKeyForCodeExchange(required=True), grants.OpenIDCode(self), TokenBinding(self)],
        )
        self.register_grant(grants.RefreshTokenGrant, [TokenBinding(self)])
        self.register_endpoint(RevocationEndpoint)
        self.register_endpoint(IntrospectionEndpoint)
        protector = SpikoResourceProtector()
        protector.register_token_validator(AccessTokenValidator())
        protector.register_token_validator(DPoPAccessTokenValidator(self))
        self.register_endpoint(UserInfoEndpoint(resource_protector=protector))
        self.register_endpoint(EndSessionEndpoint)

    # -- the unit of work every endpoint call runs in --------------------------------------------

    def run(self, http: HttpRequest | None, action: Callable[[UnitOfWork], T], *, write: bool = True) -> T:
        """Run ``action`` in one transaction; forget cached tokens once a revocation is committed."""
        with self.ctx.transaction(write=write) as session:
            unit = UnitOfWork(session, http)
            binding = bind(unit)
            try:
                result = action(unit)
            finally:
                unbind(binding)
        if unit.revoked:
            self.access_tokens.clear()
        return result

    def authenticate_client(self, request: OAuth2Request, methods: list[str], endpoint: str = "token") -> Any:
        """Authlib's client authentication, its outcome noted for the token and PAR endpoints' limits."""
        unit = current()
        try:
            client = super().authenticate_client(request, methods, endpoint)
        except OAuth2Error:
            unit.client_authentication_failed = endpoint in limits.LIMITED_ENDPOINTS
            raise
        if endpoint in limits.LIMITED_ENDPOINTS:
            unit.authenticated_client_id = client.get_client_id()
        return client

    # -- storage hooks -------------------------------------------------------------------------

    def query_client(self, client_id: str) -> Client | None:
        unit = current()
        clients = unit.clients
        if client_id not in clients:
            clients[client_id] = self._live_client(unit, client_id)
        client: Client | None = clients[client_id]
        return client

    def _live_client(self, unit: UnitOfWork, client_id: str) -> Client | None:
        """The client read in the request's transaction; on the token endpoint, from the cache
        when it is there (then noted, to be confirmed in this transaction: ``confirm_client``)."""
        if not unit.client_cache:
            return find_live_client(unit.session, client_id)
        cached = self.live_clients.cached(client_id)
        if cached is None or cached[0] is None:  # an unknown client is looked for again
            return self.live_clients.load(unit.session, client_id)
        client = cached[0]
        unit.unconfirmed_clients[client.pk] = client
        return client

    def confirm_client(self, client: Client, live: bool, secret_hash: str | None) -> None:
        """``client``, authenticated from the cache, against its row as this transaction reads it
        (``live``: not revoked; ``secret_hash``: its stored secret digest): ``StaleClient`` when
        the cache was behind (a revocation or a new secret), before anything is written."""
        unit = current()
        if unit.unconfirmed_clients.pop(client.pk, None) is None:
            return  # read in this transaction, or confirmed already
        if not live or not _same_digest(secret_hash, client.secret_hash):
            raise StaleClient(client.client_id)

    def confirm_clients(self, unit: UnitOfWork) -> None:
        """Every cached client the request used and did not confirm yet (an answer that read no
        code or token of it, such as most refusals), confirmed by a read of its row now."""
        while unit.unconfirmed_clients:
            pk, client = unit.unconfirmed_clients.popitem()
            row = unit.session.connection().execute(_client_state(), {"pk": pk}).first()
            if (
                row is None
                or row.revoked_at is not None
                or not _same_digest(row.secret_hash, client.secret_hash)
            ):
                raise StaleClient(client.client_id)

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        session = db()
        if request.authorization_code is not None:
            grant_id = tokens.create_grant(
                session, client=request.client, user=request.user, scope=token.get("scope") or ""
            )
            request.grant_id = grant_id
        else:
            grant_id = request.refresh_token.grant_id
        bound = current().dpop_jkt
        tokens.store_token(session, self.settings, grant_id=grant_id, token=token, dpop_jkt=bound)

    # -- framework glue ------------------------------------------------------------------------

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        if isinstance(request, OAuth2Request):
            return request
        return HttpOAuth2Request(request)

    def create_json_request(self, request: Any) -> HttpJsonRequest:
        return HttpJsonRequest(request)

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> OAuthResponse:
        header_map = dict(headers)
        if status == 302 and "Location" in header_map:
            header_map["Location"] = self._authorization_response(header_map["Location"])
        media_type = header_map.pop("Content-Type", None)
        if isinstance(body, dict):
            content = json.dumps(body).encode()
            media_type = media_type or "application/json"
        else:
            content = (body or "").encode() if isinstance(body, str) else (body or b"")
        return OAuthResponse(status, content, header_map, media_type)

    def _authorization_response(self, location: str) -> str:
        """Every authorization response, code or error, names this issuer (RFC 9207), and uses up
        the pushed request it answers (RFC 9126)."""
        unit = current()
        if unit.http is None or not unit.http.uri.startswith(self.settings.issuer + "/oauth2/auth"):
            return location
        par.mark_used(unit)
        return str(add_params_to_uri(location, [("iss", self.settings.issuer)]))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        # Revocations are recorded by the endpoints themselves; nothing else listens.
        return None
