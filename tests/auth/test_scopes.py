"""The scope catalog: every /v1 operation needs exactly one scope, and scopes compare by reach."""

from __future__ import annotations

import pytest

from spiko.api.ops import load_spec
from spiko.auth import scopes
from spiko.errors import ForbiddenError

METHODS = ("get", "post", "put", "patch", "delete")


def _reference_operation_ids() -> set[str]:
    document = load_spec("investor")
    return {
        operation["operationId"]
        for item in document["paths"].values()
        for method, operation in item.items()
        if method in METHODS
    }


def test_every_reference_operation_has_exactly_one_scope_of_the_catalog():
    operations = _reference_operation_ids()
    assert len(operations) == 35
    assert operations <= set(scopes.OPERATION_SCOPES)
    assert set(scopes.OPERATION_SCOPES.values()) == set(scopes.FAMILIES)  # every family is used
    for name in scopes.FAMILIES:
        assert name.endswith((":read", ":write"))


def test_every_v1_operation_the_app_serves_declares_its_scope(app):
    """Extensions beyond the reference too (they are in /openapi.json): one without a scope fails here."""
    served = app.openapi()["paths"]
    operations = [
        (f"{method.upper()} {path}", operation.get("operationId"))
        for path, item in served.items()
        if path.startswith("/v1/") and not path.startswith("/v1/docs")
        for method, operation in item.items()
        if method in METHODS
    ]
    assert len(operations) >= 35
    undeclared = [name for name, operation_id in operations if scopes.required_scope(operation_id) is None]
    assert not undeclared, "operations on /v1 without a scope in spiko.auth.scopes: " + ", ".join(undeclared)


def test_writes_need_a_write_scope_and_reads_a_read_scope():
    document = load_spec("investor")
    for item in document["paths"].values():
        for method, operation in item.items():
            if method in METHODS:
                needed = scopes.OPERATION_SCOPES[operation["operationId"]]
                assert needed.endswith(":read" if method == "get" else ":write"), operation["operationId"]


def test_read_is_every_read_scope_and_nothing_else():
    assert scopes.permissions("read") == {name for name in scopes.FAMILIES if name.endswith(":read")}
    assert "orders:write" not in scopes.permissions("read")  # type: ignore[operator]
    assert scopes.permissions("read orders:write") == scopes.permissions("read") | {"orders:write"}  # type: ignore[operator]


@pytest.mark.parametrize("scope", [None, "", "offline", "openid offline_access", "offline openid"])
def test_naming_no_api_scope_is_full_access(scope):
    assert scopes.permissions(scope) is None
    for operation_id in scopes.OPERATION_SCOPES:
        scopes.enforce(scopes.permissions(scope), operation_id)


def test_a_narrowed_credential_is_refused_outside_its_scopes_and_on_undeclared_operations():
    granted = scopes.permissions("offline orders:read")
    scopes.enforce(granted, "depositOrders.getDepositOrders")
    with pytest.raises(ForbiddenError, match="orders:write"):
        scopes.enforce(granted, "depositOrders.createDepositOrder")
    with pytest.raises(ForbiddenError):
        scopes.enforce(granted, "someExtension.withoutAScope")
    with pytest.raises(ForbiddenError):
        scopes.enforce(granted, None)


@pytest.mark.parametrize(
    ("granted", "requested", "covered"),
    [
        ("offline", "offline", True),
        ("offline", "offline orders:read", True),  # full access covers any narrower request
        ("offline orders:read", "offline", False),  # naming fewer scopes would be full access
        ("offline orders:read", "orders:read", True),
        ("orders:read", "offline orders:read", False),  # offline was not granted
        ("offline read", "offline orders:read", True),
        ("offline orders:read", "offline read", False),
        ("offline read", "offline orders:write", False),
        ("openid offline accounts:read accounts:write", "offline accounts:write", True),
    ],
)
def test_covers_compares_what_scopes_reach(granted, requested, covered):
    assert scopes.covers(granted, requested) is covered


def test_merged_consents_keep_full_access_when_either_was_full():
    assert scopes.merge("offline", "offline orders:read") == "offline"
    assert (
        scopes.merge("offline orders:read", "openid reports:read")
        == "offline openid orders:read reports:read"
    )


def test_normalize_refuses_unknown_scopes_and_orders_the_rest():
    assert scopes.normalize(["orders:write", "read", "read"]) == "read orders:write"
    assert scopes.normalize(["orders:read orders:write"]) == "orders:read orders:write"
    with pytest.raises(scopes.UnknownScopeError, match="offline"):
        scopes.normalize(["offline"])
    with pytest.raises(scopes.UnknownScopeError):
        scopes.normalize(["orders:delete"])


def test_descriptions_name_each_scope_once_in_words():
    assert scopes.describe("offline") == []
    described = scopes.describe("offline orders:write accounts:read")
    assert described == [scopes.FAMILIES["accounts:read"], scopes.FAMILIES["orders:write"]]
    assert scopes.label(None) == "Full access"
    assert scopes.label("read") == "Read only"
    assert scopes.label("orders:write orders:read") == "orders:read, orders:write"


def test_a_scope_the_server_no_longer_knows_narrows_to_nothing():
    """A stored grant or key naming a retired scope never becomes full access."""
    granted = scopes.permissions("offline orders:archive")
    assert granted == {"orders:archive"}
    for operation_id in scopes.OPERATION_SCOPES:
        with pytest.raises(ForbiddenError):
            scopes.enforce(granted, operation_id)
    assert not scopes.covers("offline orders:archive", "offline")
    assert scopes.describe("offline orders:archive") == []


def test_a_key_stored_with_only_retired_scopes_reaches_nothing(ctx, client, investor):
    from sqlalchemy import update

    from spiko.db.models.identity import ApiKey
    from spiko.services import identity
    from tests.conftest import basic_auth

    with ctx.transaction() as session:
        key = identity.create_api_key(
            session,
            ctx.api_keys,
            investor_id=investor.investor_id,
            name="old",
            max_live_keys=20,
            scopes=["read"],
        )
        session.execute(update(ApiKey).where(ApiKey.id == key.id).values(scopes="orders:archive"))
    response = client.get("/v1/investors/me", headers=basic_auth(key.client_id, key.client_secret))
    assert response.status_code == 403 and response.json()["_tag"] == "ForbiddenError"
