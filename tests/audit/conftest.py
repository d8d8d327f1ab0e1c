"""Fixtures for the register's controls: a world with an investor and money in it, and the CLI as an
operator named ``alice`` runs it."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from spiko.context import AppContext
from spiko.db.models.audit import AuditRecord
from tests.conftest import CliRun, run_cli
from tests.world import World, build_world

# Monday 2025-03-03: a business day of every fund, with a Friday NAV behind it.
TODAY = date(2025, 3, 3)
PREVIOUS = date(2025, 2, 28)
OPERATOR = "alice"


@pytest.fixture
def world(ctx: AppContext, client: TestClient) -> World:
    navs = [("EUTBL", PREVIOUS, "1.045000"), ("USTBL", PREVIOUS, "1.062000")]
    return build_world(ctx, TODAY, client=client, until_year=2026, navs=navs)


@pytest.fixture
def spiko(database_url: str, tmp_path: Any) -> Any:
    """``spiko ARGS…`` in-process on the test database, as the operator ``alice``."""

    def run(*args: str, operator: str | None = OPERATOR) -> CliRun:
        extra = {"SPIKO_OPERATOR": operator} if operator is not None else {}
        return run_cli(database_url, *args, cwd=tmp_path, extra_env=extra)

    return run


def json_lines(done: CliRun) -> list[Any]:
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def audit_rows(ctx: AppContext) -> list[AuditRecord]:
    with ctx.transaction(write=False) as session:
        rows = list(session.scalars(select(AuditRecord).order_by(AuditRecord.id)))
        session.expunge_all()
        return rows
