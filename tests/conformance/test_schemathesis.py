"""A schema-driven fuzzer (Schemathesis) over the project's copy of each reference specification.

Every operation of the investor and public specifications is called in-process with a few
generated requests (bounded, so the whole run stays well under a minute), authenticated as a real
investor on /v1, and no answer may be a server error or fall outside the specification: an
undocumented status, a body that does not match the documented schema, or a wrong content type.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis import checks
from schemathesis.specs.openapi import checks as openapi_checks

from spiko.api.ops import load_spec
from spiko.app import create_app
from spiko.config import Settings
from spiko.context import AppContext
from spiko.services import clock, seed
from tests.conftest import TEST_SECRET_KEY, InvestorFixture, create_investor
from tests.databases import DatabaseFactory

CHECKS = [
    checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
]
BOUNDED = settings(
    max_examples=4,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


def _tuples_as_arrays(node: Any) -> Any:
    """Tuples (``prefixItems`` with ``items: false``, as JSON Schema 2020-12 spells them) as arrays
    of the same length whose items match any of the tuple's members: Schemathesis rewrites
    ``prefixItems`` into an older spelling that its own 2020-12 response validator then refuses,
    so only these few (public, reference-data) fields are checked a little more loosely."""
    if isinstance(node, dict):
        converted = {key: _tuples_as_arrays(value) for key, value in node.items()}
        members = converted.pop("prefixItems", None)
        if isinstance(members, list):
            converted.pop("items", None)
            converted["items"] = {"anyOf": members}
            converted["maxItems"] = len(members)
        return converted
    if isinstance(node, list):
        return [_tuples_as_arrays(value) for value in node]
    return node


investor_schema = schemathesis.openapi.from_dict(_tuples_as_arrays(load_spec("investor")))
public_schema = schemathesis.openapi.from_dict(_tuples_as_arrays(load_spec("public")))


def _call(case: Any, client: TestClient, prefix: str, headers: dict[str, str]) -> None:
    kwargs = case.as_transport_kwargs(base_url=f"http://testserver{prefix}", headers=headers)
    kwargs.pop("base_url", None)
    url = kwargs.pop("url")
    response = client.request(url=url, **{k: v for k, v in kwargs.items() if k in _REQUEST_ARGS})
    case.validate_response(response, checks=CHECKS)


_REQUEST_ARGS = ("method", "params", "headers", "cookies", "json", "content", "data", "files")


@dataclass
class FuzzWorld:
    client: TestClient
    investor: InvestorFixture


@pytest.fixture(scope="module")
def world(databases: DatabaseFactory) -> Iterator[FuzzWorld]:
    """One database for every operation: the demo funds with their NAV and FX history, and an
    investor with an account, so that the public routes answer real data."""
    url = databases.fresh()
    ctx = AppContext(Settings(database_url=url, issuer="http://testserver", secret_key=TEST_SECRET_KEY))
    with ctx.transaction() as session:
        clock.set_today(session, date(2025, 3, 3))
        seed.seed_history(session, date(2025, 3, 3))
    investor = create_investor(ctx, name="Fuzzed Investor SAS")
    with TestClient(create_app(ctx=ctx), raise_server_exceptions=False) as client:
        yield FuzzWorld(client, investor)
    ctx.close()
    databases.drop(url)


@investor_schema.parametrize()
@BOUNDED
def test_the_investor_api_answers_within_its_reference(case: Any, world: FuzzWorld) -> None:
    _call(case, world.client, "/v1", world.investor.basic)


@public_schema.parametrize()
@BOUNDED
def test_the_public_api_answers_within_its_reference(case: Any, world: FuzzWorld) -> None:
    _call(case, world.client, "/v0", {})


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
