"""Fixtures for the orders area: the shared test world on a fixed sandbox day, and order helpers."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from spiko.context import AppContext
from tests.conftest import run_cli
from tests.world import World, build_world

# Monday 2025-03-03: a business day of every fund, with a Friday NAV behind it.
TODAY = date(2025, 3, 3)
PREVIOUS = date(2025, 2, 28)


@pytest.fixture
def cli(database_url: str, tmp_path: Any) -> Any:
    """Run ``spiko ...`` in-process on the test database; returns (exit code, parsed stdout, stderr)."""

    def run(*args: str) -> tuple[int, Any, str]:
        done = run_cli(database_url, *args, cwd=tmp_path)
        return done.returncode, done.json(), done.stderr

    return run


@pytest.fixture
def world(ctx: AppContext, client: TestClient) -> World:
    """Every share class on ``TODAY``, EUTBL and USTBL with a NAV on the business day before."""
    navs = [("EUTBL", PREVIOUS, "1.045000"), ("USTBL", PREVIOUS, "1.062000")]
    return build_world(ctx, TODAY, client=client, until_year=2026, navs=navs)


def random_id() -> str:
    return str(uuid.uuid4())


def assert_component(response: Any, component: str) -> Any:
    """Validate a body against one of the reference's component schemas (for errors the reference
    documents under another status than the one this service answers with)."""
    from jsonschema import Draft202012Validator

    from spiko.api.ops import load_spec

    document = load_spec("investor")
    schema = {"$ref": f"#/components/schemas/{component}", "components": document["components"]}
    body = response.json()
    errors = list(Draft202012Validator(schema).iter_errors(body))
    assert not errors, [e.message for e in errors]
    return body
