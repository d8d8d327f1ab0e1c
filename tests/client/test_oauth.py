"""OAuth2Session against the authorization server: the code flow with state and PKCE, refresh
before expiry and on a 401, rotation, reuse refused, forged state refused, one refresh at a time."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from spiko.client import (
    AsyncSpikoClient,
    AuthorizationDeniedError,
    InvestorAuthenticationError,
    OAuth2Error,
    OAuth2Session,
    SpikoClient,
    StateMismatchError,
)
from tests.client.conftest import Server, in_process, live
from tests.conftest import InvestorFixture

REDIRECT_URI = "http://127.0.0.1:8765/callback"


class Tokens:
    """An ``on_token`` callback that keeps every token it is handed."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    def __call__(self, token: dict[str, Any]) -> None:
        self.seen.append(token)


def register_app(server: Server, *, public: bool = False) -> dict[str, Any]:
    argv = ["oauth-clients", "create", "--name", "Treasury Dashboard", "--redirect-uri", REDIRECT_URI]
    return server.cli(*argv, *(["--public"] if public else []))  # type: ignore[no-any-return]


def new_session(server: Server, app: dict[str, Any], **options: Any) -> OAuth2Session:
    return OAuth2Session(
        issuer=server.url,
        client_id=app["client_id"],
        client_secret=app["client_secret"],
        redirect_uri=REDIRECT_URI,
        scope="offline",
        **{"transport": server.transport, **options},
    )


def consent(server: Server, investor: InvestorFixture, session: OAuth2Session) -> str:
    """The investor signs in and allows the app; the callback URL the browser is sent back to."""
    browser = server.browser()
    try:
        browser.sign_in(investor.email, investor.password)
        return browser.authorize(session.authorization_url())
    finally:
        browser.close()


def authorized(server: Server, investor: InvestorFixture, **options: Any) -> tuple[OAuth2Session, Tokens]:
    tokens = Tokens()
    session = new_session(server, register_app(server), on_token=tokens, **options)
    session.exchange(consent(server, investor, session))
    return session, tokens


@pytest.fixture(scope="module")
def short_server(databases) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    """The app with access tokens that live 2 seconds."""
    yield from in_process(databases, access_token_ttl_seconds=2)


@pytest.fixture(scope="module")
def live_short_server(databases, tmp_path_factory) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    """A real server whose access tokens live 2 seconds (``aexchange`` opens a client of its own)."""
    yield from live(
        databases, tmp_path_factory.mktemp("short"), extra_env={"SPIKO_ACCESS_TOKEN_TTL_SECONDS": "2"}
    )


def test_authorization_url_has_a_fresh_state_and_a_pkce_s256_challenge(server):
    session = new_session(server, {"client_id": "app", "client_secret": None})
    first = parse_qs(urlsplit(session.authorization_url()).query)
    second = parse_qs(urlsplit(session.authorization_url()).query)
    assert first["response_type"] == ["code"]
    assert first["redirect_uri"] == [REDIRECT_URI]
    assert first["scope"] == ["offline"]
    assert first["code_challenge_method"] == ["S256"]
    assert len(first["state"][0]) >= 8
    assert first["state"] != second["state"]
    assert first["code_challenge"] != second["code_challenge"]


def test_confidential_client_flow_gives_a_token_that_reaches_the_investor(server, investor):
    tokens = Tokens()
    session = new_session(server, register_app(server), on_token=tokens)
    callback_url = consent(server, investor, session)
    before = time.time()
    token = session.exchange(callback_url)
    assert token["access_token"] and token["refresh_token"]
    assert before + token["expires_in"] - 2 <= token["expires_at"] <= time.time() + token["expires_in"] + 1
    assert tokens.seen == [token]
    assert session.token == token
    with SpikoClient(server.url, auth=session, transport=server.transport) as client:
        assert client.investors.me().name == "Alice Treasury SAS"


def test_public_client_flow_with_pkce_only(server, investor):
    app = register_app(server, public=True)
    assert app["client_secret"] is None
    session = new_session(server, app)
    session.exchange(consent(server, investor, session))
    with SpikoClient(server.url, auth=session, transport=server.transport) as client:
        assert client.investors.me().id == investor.investor_id


class CountingTransport(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.inner.handle_request(request)


def test_forged_or_missing_state_is_refused_before_any_request(server, investor):
    transport = CountingTransport(server.network())
    session = new_session(server, register_app(server), transport=transport)
    callback_url = consent(server, investor, session)
    code = parse_qs(urlsplit(callback_url).query)["code"][0]

    with pytest.raises(StateMismatchError):
        session.exchange(f"{REDIRECT_URI}?code={code}&state=forged-state-value")
    session.authorization_url()
    with pytest.raises(StateMismatchError):
        session.exchange(f"{REDIRECT_URI}?code={code}")
    with pytest.raises(StateMismatchError):  # a callback with no authorization in progress
        new_session(server, register_app(server)).exchange(callback_url)
    assert transport.requests == []
    assert session.token is None


def test_denied_consent_raises_access_denied(server, investor):
    session = new_session(server, register_app(server))
    browser = server.browser()
    browser.sign_in(investor.email, investor.password)
    callback_url = browser.authorize(session.authorization_url(), decision="deny")
    browser.close()
    with pytest.raises(AuthorizationDeniedError) as caught:
        session.exchange(callback_url)
    assert caught.value.error == "access_denied"


def test_refreshes_before_expiry_and_hands_the_new_token_over(short_server):
    investor = short_server.investor("Short Lived SAS")
    session, tokens = authorized(short_server, investor)
    statuses: list[int] = []
    with SpikoClient(short_server.url, auth=session, transport=short_server.transport) as client:
        client.http.event_hooks["response"].append(lambda response: statuses.append(response.status_code))
        assert client.investors.me().name == "Short Lived SAS"
        # (On a slow machine the first call may already have refreshed: count from here.)
        refreshes, issued = session.refresh_count, len(tokens.seen)
        time.sleep(2.2)
        assert client.investors.me().name == "Short Lived SAS"
    assert session.refresh_count == refreshes + 1
    assert 401 not in statuses  # refreshed before sending, not after a refusal
    assert len(tokens.seen) == issued + 1
    assert tokens.seen[-1]["access_token"] != tokens.seen[-2]["access_token"]
    assert tokens.seen[-1]["refresh_token"] != tokens.seen[-2]["refresh_token"]  # rotated


def test_refreshes_once_on_a_401_and_retries(short_server):
    investor = short_server.investor("Clock Skew SAS")
    session, tokens = authorized(short_server, investor)
    # As if the local clock were wrong: the session believes its token is still good.
    assert session._token is not None
    session._token["expires_at"] = time.time() + 3600
    time.sleep(2.2)
    statuses: list[int] = []
    with SpikoClient(short_server.url, auth=session, transport=short_server.transport) as client:
        client.http.event_hooks["response"].append(lambda response: statuses.append(response.status_code))
        assert client.investors.me().name == "Clock Skew SAS"
    assert statuses == [401, 200, 200]  # refused, token refreshed, request sent again
    assert session.refresh_count == 1
    assert len(tokens.seen) == 2


def test_a_401_after_refreshing_is_raised_not_looped(server, investor):
    session, tokens = authorized(server, investor)
    app_id = session.client_id
    server.cli("oauth-clients", "revoke", app_id)
    with (
        SpikoClient(server.url, auth=session, transport=server.transport) as client,
        pytest.raises((InvestorAuthenticationError, OAuth2Error)),
    ):
        client.investors.me()
    assert session.refresh_count <= 1


def _refresh_by_hand(
    server: Server, session: OAuth2Session, refresh_token: str, secret: str
) -> httpx.Response:
    with server.http() as http:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "redirect_uri": REDIRECT_URI}
        return http.post("/oauth2/token", data=form, auth=(session.client_id, secret))


def test_rotation_every_refresh_token_is_new_and_the_old_one_is_refused(server, investor):
    app = register_app(server)
    tokens = Tokens()
    session = new_session(server, app, on_token=tokens)
    session.exchange(consent(server, investor, session))
    session.refresh()
    session.refresh()
    refresh_tokens = [token["refresh_token"] for token in tokens.seen]
    assert len(refresh_tokens) == 3 and len(set(refresh_tokens)) == 3
    with SpikoClient(server.url, auth=session, transport=server.transport) as client:
        assert client.investors.me().id == investor.investor_id

    # Presenting a rotated-out refresh token is refused...
    reused = _refresh_by_hand(server, session, refresh_tokens[0], app["client_secret"])
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"
    # ...and, as reuse detection, kills the grant: the session cannot refresh any more.
    with pytest.raises(OAuth2Error) as caught:
        session.refresh()
    assert caught.value.error == "invalid_grant"


def test_many_threads_with_an_expired_token_make_one_refresh(server, investor):
    session, tokens = authorized(server, investor)
    assert session._token is not None
    session._token["expires_at"] = 0  # expired: every thread wants a fresh one
    barrier = threading.Barrier(12)
    names: list[str] = []
    errors: list[BaseException] = []

    with SpikoClient(server.url, auth=session, transport=server.transport) as client:

        def call() -> None:
            try:
                barrier.wait(timeout=10)
                names.append(client.investors.me().name)
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)

        threads = [threading.Thread(target=call) for _ in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert errors == []
    assert names == ["Alice Treasury SAS"] * 12
    assert session.refresh_count == 1
    assert len(tokens.seen) == 2


def test_many_tasks_with_an_expired_token_make_one_refresh(server, investor):
    session, tokens = authorized(server, investor)
    assert session._token is not None
    session._token["expires_at"] = 0

    async def main() -> list[str]:
        async with AsyncSpikoClient(server.url, auth=session, transport=server.transport) as client:
            investors = await asyncio.gather(*(client.investors.me() for _ in range(12)))
        return [item.name for item in investors]

    assert asyncio.run(main()) == ["Alice Treasury SAS"] * 12
    assert session.refresh_count == 1
    assert len(tokens.seen) == 2


def test_async_exchange_and_refresh_on_expiry(live_short_server):
    investor = live_short_server.investor("Async Treasury SAS")
    tokens = Tokens()
    session = new_session(live_short_server, register_app(live_short_server), on_token=tokens)
    callback_url = consent(live_short_server, investor, session)

    async def main() -> tuple[list[str], int]:
        await session.aexchange(callback_url)
        async with AsyncSpikoClient(live_short_server.url, auth=session) as client:
            first = await client.investors.me()
            refreshes = session.refresh_count
            await asyncio.sleep(2.2)
            second = await client.investors.me()
        return [first.name, second.name], refreshes

    names, refreshes = asyncio.run(main())
    assert names == ["Async Treasury SAS"] * 2
    assert session.refresh_count == refreshes + 1
    assert len(tokens.seen) == refreshes + 2


def test_revoke_ends_the_grant_at_the_server(server, investor):
    session, _ = authorized(server, investor)
    token = session.token
    assert token is not None
    session.revoke()
    assert session.token is None
    access_token = {"access_token": token["access_token"]}
    access_only = OAuth2Session(server.url, session.client_id, token=access_token, transport=server.transport)
    with (
        SpikoClient(server.url, auth=access_only, transport=server.transport) as client,
        pytest.raises(InvestorAuthenticationError),
    ):
        client.investors.me()  # the access token died with the grant
    app = {"client_id": session.client_id, "client_secret": session._client_secret}
    with pytest.raises(OAuth2Error) as caught:
        new_session(server, app, token=token).refresh()  # and so did the refresh token
    assert caught.value.error == "invalid_grant"


class LosesRefreshAnswers(httpx.BaseTransport):
    """Delivers every request; loses the answer of the next refresh once ``armed`` (after the
    server has rotated the token), as a dropped connection would."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.armed = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if self.armed and b"grant_type=refresh_token" in request.read():
            self.armed = False
            response.read()
            response.close()
            raise httpx.ReadError("connection reset by peer", request=request)
        return response


@pytest.fixture(scope="module")
def graced_server(databases) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    """The app letting a rotated-out refresh token be exchanged again for 60 seconds."""
    yield from in_process(databases, refresh_token_reuse_grace_seconds=60)


def test_a_lost_refresh_answer_costs_the_grant_without_a_reuse_grace(server):
    investor = server.investor("Strict Rotation SAS")
    network = LosesRefreshAnswers(server.network())
    session, _ = authorized(server, investor, transport=network)
    network.armed = True
    with pytest.raises(httpx.ReadError):
        session.refresh()
    with pytest.raises(OAuth2Error) as caught:
        session.refresh()  # the only refresh token it has was rotated out by the lost exchange
    assert caught.value.tag == "invalid_grant"


def test_with_a_reuse_grace_the_session_recovers_from_a_lost_refresh_answer(graced_server):
    investor = graced_server.investor("Graced Rotation SAS")
    network = LosesRefreshAnswers(graced_server.network())
    session, tokens = authorized(graced_server, investor, transport=network)
    network.armed = True
    with pytest.raises(httpx.ReadError):
        session.refresh()
    issued = len(tokens.seen)
    session.refresh()  # the same refresh token again, within the grace period
    assert len(tokens.seen) == issued + 1
    with SpikoClient(graced_server.url, auth=session, transport=graced_server.transport) as client:
        assert client.investors.me().name == "Graced Rotation SAS"
    session.refresh()  # and the new refresh token rotates as usual
