"""Fixtures for the SDK tests: the app per test module, served in-process (or by a real server where
the network is the point), investors, and operator commands."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from spiko.app import create_app
from spiko.client import ApiKeyAuth, SpikoClient
from spiko.config import Settings
from spiko.context import AppContext
from tests.app_transport import AppTransport
from tests.client.browser import Browser
from tests.conftest import (
    TEST_SECRET_KEY,
    InvestorFixture,
    LiveServer,
    create_investor,
    run_cli,
    start_server,
    stop_server,
)
from tests.databases import DatabaseFactory
from tests.world import World, build_world

# The issuer (and base URL) of the in-process app: the default of a development server. No socket
# is opened on it: requests reach the app through ``Server.transport``.
IN_PROCESS_URL = "http://127.0.0.1:8000"


@dataclass
class Server:
    """The app on its own database, and a context on that database.

    In-process (``transport`` set), every client made here sends its requests to the app through
    ``transport``; a live server (``live`` set) is reached over the network at ``url``.
    """

    url: str
    database_url: str
    ctx: AppContext
    transport: AppTransport | None = None
    live: LiveServer | None = None

    def investor(self, name: str | None = None) -> InvestorFixture:
        return create_investor(self.ctx, name=name)

    def client(self, investor: InvestorFixture, **options: Any) -> SpikoClient:
        auth = ApiKeyAuth(investor.client_id, investor.client_secret)
        return SpikoClient(self.url, auth=auth, **{"transport": self.transport, **options})

    def network(self) -> httpx.BaseTransport:
        """The way to the app, for a test transport to wrap (closing it leaves the app serving)."""
        return self.transport or httpx.HTTPTransport()

    def http(self) -> httpx.Client:
        """A plain HTTP client on the app."""
        return httpx.Client(base_url=self.url, transport=self.transport, timeout=30)

    def browser(self) -> Browser:
        return Browser(self.url, transport=self.transport)

    def cli(self, *argv: str) -> Any:
        """Run a ``spiko`` operator command on this server's database; its JSON output, parsed."""
        done = run_cli(self.database_url, *argv, extra_env={"SPIKO_ISSUER": self.url})
        if done.returncode != 0:
            raise RuntimeError(f"spiko {' '.join(argv)} failed: {done.stderr.strip()}")
        return done.json()


def in_process(databases: DatabaseFactory, **settings: Any) -> Iterator[Server]:
    """The app served in-process on a fresh database, with ``settings`` changed."""
    database_url = databases.fresh()
    ctx = AppContext(
        Settings(database_url=database_url, issuer=IN_PROCESS_URL, secret_key=TEST_SECRET_KEY, **settings)
    )
    transport = AppTransport(create_app(ctx=ctx))
    try:
        yield Server(IN_PROCESS_URL, database_url, ctx, transport=transport)
    finally:
        transport.shutdown()
        ctx.close()
        databases.drop(database_url)


def live(
    databases: DatabaseFactory, workdir: Path, extra_env: dict[str, str] | None = None
) -> Iterator[Server]:
    """A real server (``spiko serve`` in a process of its own) on a fresh database."""
    database_url = databases.fresh()
    server = start_server(database_url, workdir, extra_env=extra_env)
    ctx = AppContext(Settings(database_url=database_url, issuer=server.url, secret_key=TEST_SECRET_KEY))
    try:
        yield Server(server.url, database_url, ctx, live=server)
    finally:
        ctx.close()
        stop_server(server)
        databases.drop(database_url)


@pytest.fixture(scope="module")
def server(databases: DatabaseFactory) -> Iterator[Server]:
    """The app per test module (tests create their own investors, so they never share data)."""
    yield from in_process(databases)


@pytest.fixture
def investor(server: Server) -> InvestorFixture:
    return server.investor("Alice Treasury SAS")


@pytest.fixture
def client(server: Server, investor: InvestorFixture) -> Iterator[SpikoClient]:
    with server.client(investor) as sdk:
        yield sdk


# Monday 2025-03-03: a business day of every fund, with the Friday before it.
TODAY = "2025-03-03"
PREVIOUS = "2025-02-28"


@pytest.fixture(scope="module")
def market(server: Server) -> World:
    """The shared test world on the server's database: every share class on ``TODAY``, EUTBL and
    USTBL with a NAV on that day and the one before."""
    today, previous = date.fromisoformat(TODAY), date.fromisoformat(PREVIOUS)
    navs = [
        ("EUTBL", previous, "1.045000"),
        ("EUTBL", today, "1.045300"),
        ("USTBL", previous, "1.062000"),
        ("USTBL", today, "1.062200"),
    ]
    return build_world(server.ctx, today, until_year=2026, navs=navs)
