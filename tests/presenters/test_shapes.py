"""Each presenter's TypedDict names exactly the fields of its reference schema (at any depth).

mypy checks every body a presenter builds against its TypedDict; this test ties each TypedDict to
the specification copy in ``spiko/specs``, so the static check is a check against the reference.
"""

from __future__ import annotations

import types
import typing
from typing import Any, Union, get_args, get_origin, get_type_hints, is_typeddict

import pytest

from spiko.api.ops import load_spec
from spiko.presenters import (
    account_transactions,
    accounting_positions,
    accounts,
    bank_accounts,
    deposit_orders,
    investors,
    portfolio,
    public,
    redemption_orders,
    subscription_orders,
    transfer_orders,
    withdrawal_orders,
    yields,
)

# (spec, path, method, the presenter's shape of one body or, for a list, of one item)
SHAPES: list[tuple[str, str, str, Any]] = [
    ("investor", "/accounts/{accountId}", "get", accounts.AccountBody),
    ("investor", "/accounts/{accountId}/deposit-instructions", "get", accounts.DepositInstructionsBody),
    ("investor", "/bank-accounts/{bankAccountId}", "get", bank_accounts.BankAccountBody),
    ("investor", "/investors/me", "get", investors.InvestorBody),
    ("investor", "/deposit-orders/{depositOrderId}", "get", deposit_orders.DepositOrderBody),
    ("investor", "/deposit-orders/", "post", deposit_orders.CreatedDepositOrderBody),
    ("investor", "/deposit-orders/direct-debit/", "post", deposit_orders.DirectDebitBody),
    (
        "investor",
        "/subscription-orders/{subscriptionOrderId}",
        "get",
        subscription_orders.SubscriptionOrderBody,
    ),
    ("investor", "/withdrawal-orders/{withdrawalOrderId}", "get", withdrawal_orders.WithdrawalOrderBody),
    ("investor", "/redemption-orders/{redemptionOrderId}", "get", redemption_orders.RedemptionOrderBody),
    ("investor", "/redemption-orders/instant", "post", redemption_orders.InstantRedemptionOrderBody),
    ("investor", "/transfer-orders/{transferOrderId}", "get", transfer_orders.TransferOrderBody),
    ("investor", "/portfolio/", "get", portfolio.PortfolioBody),
    ("investor", "/portfolio/totals", "get", portfolio.PortfolioTotalBody),
    ("investor", "/yields/history", "get", yields.DailyYieldBody),
    ("investor", "/account-transactions/", "get", account_transactions.AccountTransactionsBody),
    ("investor", "/accounting-positions/history", "get", accounting_positions.InvestorPositionBody),
    ("investor", "/accounting-positions/account-history", "get", accounting_positions.AccountPositionBody),
    ("public", "/funds/{fundId}", "get", public.FundBody),
    ("public", "/share-classes/{shareClassSymbol}", "get", public.ShareClassBody),
    ("public", "/net-asset-values/{shareClassSymbol}/latest", "get", public.NavBody),
    ("public", "/exchange-rates/{exchangeRateId}", "get", public.ExchangeRateBody),
    ("public", "/share-classes/{shareClassSymbol}/yield", "get", public.ShareClassYieldBody),
    ("public", "/share-classes/{shareClassSymbol}/totals", "get", public.ShareClassTotalBody),
    ("public", "/index-values/{shareClassSymbol}", "get", public.IndexValueBody),
]


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _objects(document: dict[str, Any], schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The object schemas a value may match (the alternatives of anyOf/oneOf, flattened)."""
    schema = _resolve(document, schema)
    alternatives = schema.get("anyOf") or schema.get("oneOf")
    if alternatives:
        return [found for alternative in alternatives for found in _objects(document, alternative)]
    return [schema] if schema.get("type") == "object" or "properties" in schema else []


def _arrays(document: dict[str, Any], schema: dict[str, Any]) -> list[dict[str, Any]]:
    schema = _resolve(document, schema)
    alternatives = schema.get("anyOf") or schema.get("oneOf")
    if alternatives:
        return [found for alternative in alternatives for found in _arrays(document, alternative)]
    return [schema["items"]] if schema.get("type") == "array" else []


def _members(annotation: Any) -> list[Any]:
    if get_origin(annotation) in (Union, types.UnionType):
        return [member for arg in get_args(annotation) for member in _members(arg)]
    return [annotation]


def _mismatches(document: dict[str, Any], shape: Any, schema: dict[str, Any], where: str) -> list[str]:
    """Why ``shape`` (a TypedDict, a union or a list of them) does not fit ``schema``; empty if it does."""
    problems: list[str] = []
    for member in _members(shape):
        if is_typeddict(member):
            candidates = [_fit(document, member, obj, where) for obj in _objects(document, schema)]
            if not candidates:
                problems.append(f"{where}: {member.__name__} is an object, the reference is not")
            elif all(candidates):
                problems += min(candidates, key=len)
        elif get_origin(member) is list:
            (item,) = get_args(member)
            if any(is_typeddict(m) for m in _members(item)):
                arrays = _arrays(document, schema)
                if not arrays:
                    problems.append(f"{where}: a list, the reference is not an array")
                for items in arrays:
                    problems += _mismatches(document, item, items, f"{where}[]")
    return problems


def _fit(document: dict[str, Any], shape: Any, obj: dict[str, Any], where: str) -> list[str]:
    properties = obj.get("properties", {})
    hints = get_type_hints(shape)
    problems = [f"{where}.{key}: not in the reference" for key in hints if key not in properties]
    required = obj.get("required", [])
    problems += [f"{where}.{key}: required by the reference" for key in required if key not in hints]
    for key, annotation in hints.items():
        if key in properties:
            problems += _mismatches(document, annotation, properties[key], f"{where}.{key}")
    return problems


def _response_schema(spec: str, path: str, method: str) -> tuple[dict[str, Any], dict[str, Any]]:
    document = load_spec(spec)
    responses = document["paths"][path][method]["responses"]
    status = next(code for code in responses if code.startswith("2"))
    return document, responses[status]["content"]["application/json"]["schema"]


@pytest.mark.parametrize(("spec", "path", "method", "shape"), SHAPES, ids=[f"{s[2]} {s[1]}" for s in SHAPES])
def test_the_presenter_shape_is_the_reference_schema(spec: str, path: str, method: str, shape: Any) -> None:
    document, schema = _response_schema(spec, path, method)
    if _resolve(document, schema).get("type") == "array":
        shape = list[shape]  # type: ignore[valid-type]
    assert _mismatches(document, shape, schema, path) == []


def test_a_field_the_reference_lacks_is_reported() -> None:
    class Extra(typing.TypedDict):
        id: str
        invented: str

    document, schema = _response_schema("public", "/funds/{fundId}", "get")
    problems = _mismatches(document, Extra, schema, "fund")
    assert "fund.invented: not in the reference" in problems
    assert "fund.slug: required by the reference" in problems
