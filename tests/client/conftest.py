"""Fixtures for the SDK tests: a real server per test module, investors, and operator commands."""

from __future__ import annotations

import contextlib
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from spiko.client import ApiKeyAuth, SpikoClient
from spiko.config import Settings
from spiko.context import AppContext
from tests.conftest import (
    TEST_SECRET_KEY,
    InvestorFixture,
    LiveServer,
    create_investor,
    start_server,
    stop_server,
)
from tests.databases import DatabaseFactory


@dataclass
class Server:
    """A running server with the database it serves and a context on that database."""

    live: LiveServer
    database_url: str
    ctx: AppContext

    @property
    def url(self) -> str:
        return self.live.url

    def investor(self, name: str | None = None) -> InvestorFixture:
        return create_investor(self.ctx, name=name)

    def client(self, investor: InvestorFixture, **options: Any) -> SpikoClient:
        return SpikoClient(self.url, auth=ApiKeyAuth(investor.client_id, investor.client_secret), **options)

    def cli(self, *argv: str) -> Any:
        """Run a ``spiko`` operator command on this server's database; its JSON output, parsed."""
        from spiko.cli import main

        out = io.StringIO()
        err = io.StringIO()
        saved = {
            name: os.environ.get(name) for name in ("SPIKO_DATABASE_URL", "SPIKO_SECRET_KEY", "SPIKO_ISSUER")
        }
        os.environ.update(
            SPIKO_DATABASE_URL=self.database_url, SPIKO_SECRET_KEY=TEST_SECRET_KEY, SPIKO_ISSUER=self.url
        )
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main(list(argv))
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        if code != 0:
            raise RuntimeError(f"spiko {' '.join(argv)} failed: {err.getvalue().strip()}")
        text = out.getvalue().strip()
        return json.loads(text) if text else None


def _server(
    databases: DatabaseFactory, workdir: Path, extra_env: dict[str, str] | None = None
) -> Iterator[Server]:
    database_url = databases.fresh()
    live = start_server(database_url, workdir, extra_env=extra_env)
    ctx = AppContext(Settings(database_url=database_url, issuer=live.url, secret_key=TEST_SECRET_KEY))
    try:
        yield Server(live, database_url, ctx)
    finally:
        ctx.close()
        stop_server(live)
        databases.drop(database_url)


@pytest.fixture(scope="module")
def server(databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One real server per test module (tests create their own investors, so they never share data)."""
    yield from _server(databases, tmp_path_factory.mktemp("server"))


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
IBANS = ["DE89370400440532013000", "GB82WEST12345698765432", "FR1420041010050500013M02606"]


@dataclass
class Market:
    """A server with reference data, the sandbox clock on a business day, and NAVs published."""

    server: Server
    share_classes: dict[str, dict[str, Any]]

    def id(self, symbol: str) -> str:
        return str(self.share_classes[symbol]["id"])

    def bank_account(self, investor: InvestorFixture, index: int = 0) -> dict[str, Any]:
        return self.server.cli(  # type: ignore[no-any-return]
            "bank-accounts", "add", "--email", investor.email, "--iban", IBANS[index], "--bic", "DEUTDEFFXXX",
            "--name", f"Main {index}",
        )  # fmt: skip

    def fund(self, wire_reference: str) -> dict[str, Any]:
        return self.server.cli("deposits", "fund", "--reference", wire_reference)  # type: ignore[no-any-return]

    def execute(self) -> dict[str, Any]:
        return self.server.cli("orders", "execute")  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def market(server: Server) -> Market:
    import httpx

    server.cli("reference", "seed")
    server.cli("clock", "set", "--day", TODAY)
    for day, value in ((PREVIOUS, "1.045000"), (TODAY, "1.045300")):
        server.cli("nav", "publish", "--share-class", "EUTBL", "--day", day, "--value", value)
    for day, value in ((PREVIOUS, "1.062000"), (TODAY, "1.062200")):
        server.cli("nav", "publish", "--share-class", "USTBL", "--day", day, "--value", value)
    listed = httpx.get(server.url + "/v0/share-classes/", timeout=30).json()
    return Market(server, {item["symbol"]: item for item in listed})
