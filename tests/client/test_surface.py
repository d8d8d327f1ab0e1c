"""The SDK's surface: a method for every operation of the reference spec, with its method and path;
deprecated operations warn; the sync and async clients offer the same groups and methods."""

from __future__ import annotations

import asyncio
import inspect
import json
import re
import warnings
from datetime import date
from decimal import Decimal
from importlib import resources as importlib_resources
from typing import Any

from spiko.client import (
    Amount,
    ApiKeyAuth,
    AsyncSpikoClient,
    BankTransfer,
    SpikoClient,
    TotalQuantity,
    TotalTransfer,
)
from spiko.client.operations import Call

GROUPS = [
    "investors",
    "accounts",
    "deposit_orders",
    "withdrawal_orders",
    "transfer_orders",
    "subscription_orders",
    "redemption_orders",
    "account_transactions",
    "portfolio",
    "bank_accounts",
    "accounting_positions",
    "yields",
]
ID = "11111111-2222-4333-8444-555555555555"


def _spec() -> dict[str, Any]:
    return json.loads((importlib_resources.files("spiko") / "specs" / "investor-openapi.json").read_text())


def _argument(parameter: inspect.Parameter) -> Any:
    annotation = str(parameter.annotation)
    if "Amount" in annotation and "Transfer" not in annotation:
        return Amount(value=Decimal("100"), currency="EUR")
    if "WithdrawalDestination" in annotation:
        return BankTransfer(bank_account_id=ID)
    if "WithdrawalQuantity" in annotation:
        return TotalQuantity()
    if "TransferAmount" in annotation:
        return TotalTransfer()
    if "date" in annotation:
        return date(2025, 3, 3)
    return ID


def _calls() -> dict[str, tuple[str, Call[Any], bool]]:
    """operationId -> (group.method, the call it builds, whether building it warned)."""
    client = SpikoClient("http://127.0.0.1:9", auth=ApiKeyAuth("id", "secret"))
    found: dict[str, tuple[str, Call[Any], bool]] = {}
    for group in GROUPS:
        resource = getattr(client, group)
        for name, method in inspect.getmembers(type(resource), inspect.isfunction):
            if name.startswith("_") or name == "iter":
                continue
            build = method.__wrapped__
            required = {
                parameter.name: _argument(parameter)
                for parameter in inspect.signature(build).parameters.values()
                if parameter.default is inspect.Parameter.empty
            }
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                call = build(**required)
            found[call.operation_id] = (
                f"{group}.{name}",
                call,
                any(w.category is DeprecationWarning for w in caught),
            )
    client.close()
    return found


def test_every_operation_of_the_reference_has_a_method_with_its_method_and_path():
    calls = _calls()
    spec = _spec()
    expected: dict[str, tuple[str, str, bool]] = {}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            expected[operation["operationId"]] = (method.upper(), path, bool(operation.get("deprecated")))
    assert len(expected) == 35
    assert sorted(calls) == sorted(expected)
    for operation_id, (http_method, path, deprecated) in expected.items():
        name, call, warned = calls[operation_id]
        assert call.method == http_method, name
        pattern = "/".join("[^/]+" if part.startswith("{") else re.escape(part) for part in path.split("/"))
        assert re.fullmatch(pattern, call.path), (name, call.path, path)
        assert warned is deprecated, f"{name}: deprecated={deprecated} but warned={warned}"


def test_groups_are_the_reference_tags_in_snake_case():
    tags = [tag["name"] for tag in _spec()["tags"]]
    snake = sorted(re.sub(r"\W+", "_", re.sub(r"\s*\(deprecated\)", "", tag)).lower() for tag in tags)
    assert snake == sorted(GROUPS)


def test_sync_and_async_clients_offer_the_same_methods_and_signatures():
    sync = SpikoClient("http://127.0.0.1:9", auth=ApiKeyAuth("id", "secret"))
    asynchronous = AsyncSpikoClient("http://127.0.0.1:9", auth=ApiKeyAuth("id", "secret"))
    for group in GROUPS:
        sync_type, async_type = type(getattr(sync, group)), type(getattr(asynchronous, group))
        sync_methods = {
            n: m for n, m in inspect.getmembers(sync_type, inspect.isfunction) if not n.startswith("_")
        }
        async_methods = {
            n: m for n, m in inspect.getmembers(async_type, inspect.isfunction) if not n.startswith("_")
        }
        assert sorted(sync_methods) == sorted(async_methods), group
        for name, method in sync_methods.items():
            assert inspect.signature(method) == inspect.signature(async_methods[name]), f"{group}.{name}"
            if name != "iter":
                assert inspect.iscoroutinefunction(async_methods[name]), f"{group}.{name}"
    sync.close()
    asyncio.run(asynchronous.aclose())


def test_the_standard_methods_exist_where_the_reference_has_them():
    client = SpikoClient("http://127.0.0.1:9", auth=ApiKeyAuth("id", "secret"))
    for group in ["accounts", "deposit_orders", "withdrawal_orders", "transfer_orders"]:
        assert callable(getattr(getattr(client, group), "create"))
        assert callable(getattr(getattr(client, group), "list"))
        assert callable(getattr(getattr(client, group), "get"))
    assert callable(client.deposit_orders.cancel) and callable(client.withdrawal_orders.cancel)
    assert callable(client.account_transactions.iter)
    client.close()


def test_every_request_body_the_sdk_sends_matches_the_reference_schema():
    from jsonschema import Draft202012Validator

    spec = _spec()
    checked = set()
    for operation_id, (name, call, _) in _calls().items():
        if call.json is None:
            continue
        call = call.with_investor(ID)
        operation = next(
            operation
            for operations in spec["paths"].values()
            for operation in operations.values()
            if operation["operationId"] == operation_id
        )
        schema = {
            **operation["requestBody"]["content"]["application/json"]["schema"],
            "components": spec["components"],
        }
        errors = [error.message for error in Draft202012Validator(schema).iter_errors(call.json)]
        assert errors == [], name
        checked.add(operation_id)
    with_bodies = {
        operation["operationId"]
        for operations in spec["paths"].values()
        for operation in operations.values()
        if "requestBody" in operation
    }
    assert checked == with_bodies and len(checked) == 9
