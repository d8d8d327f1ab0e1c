"""Every operation of both reference specifications is served, with its deprecation flag."""

from __future__ import annotations

import pytest

from spiko.api.ops import load_spec

METHODS = ("get", "post", "put", "patch", "delete")


def _operations(spec: str) -> list[tuple[str, str, dict]]:
    document = load_spec(spec)
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def _served(app) -> dict[tuple[str, str], dict]:  # type: ignore[no-untyped-def]
    schema = app.openapi()
    return {
        (path.rstrip("/") or "/", method): operation
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


@pytest.mark.parametrize(("spec", "prefix"), [("investor", "/v1"), ("public", "/v0")])
def test_every_reference_operation_is_served(app, spec, prefix):
    served = _served(app)
    missing = [
        f"{method.upper()} {prefix}{path}"
        for path, method, _ in _operations(spec)
        if (f"{prefix}{path}".rstrip("/"), method) not in served
    ]
    assert not missing, "operations of the reference not served: " + ", ".join(missing)


def test_deprecated_operations_are_marked_deprecated(app):
    served = _served(app)
    for path, method, operation in _operations("investor"):
        key = (f"/v1{path}".rstrip("/"), method)
        if key in served:
            assert bool(served[key].get("deprecated")) == bool(operation.get("deprecated")), key


def test_investor_operation_ids_match_the_reference(app):
    served = _served(app)
    mismatched = []
    for path, method, operation in _operations("investor"):
        key = (f"/v1{path}".rstrip("/"), method)
        if key in served and served[key].get("operationId") != operation.get("operationId"):
            mismatched.append(f"{method.upper()} /v1{path}: {served[key].get('operationId')}")
    assert not mismatched, mismatched
