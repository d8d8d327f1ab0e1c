"""Validate real responses against the reference specifications kept in the project."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from spiko.api.ops import load_spec

_validators: dict[tuple[str, str, str, str], Draft202012Validator | None] = {}


def response_validator(spec: str, path: str, method: str, status: int) -> Draft202012Validator | None:
    key = (spec, path, method, str(status))
    if key not in _validators:
        document = load_spec(spec)
        operation = document["paths"][path][method.lower()]
        responses = operation["responses"]
        assert str(status) in responses, f"{method.upper()} {path} does not document status {status}"
        content = responses[str(status)].get("content")
        if not content or "application/json" not in content:
            _validators[key] = None
        else:
            schema = dict(content["application/json"]["schema"])
            schema["components"] = document["components"]
            _validators[key] = Draft202012Validator(schema, format_checker=FormatChecker())
    return _validators[key]


def assert_matches(response: Any, path: str, method: str = "get", spec: str = "investor") -> Any:
    """Assert the response's body is valid for its status under the reference operation; return it."""
    validator = response_validator(spec, path, method, response.status_code)
    body = (
        response.json() if response.headers.get("content-type", "").startswith("application/json") else None
    )
    if validator is not None:
        errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
        assert not errors, (
            f"{method.upper()} {path} -> {response.status_code} does not match the reference schema:\n"
            + "\n".join(f"  at {list(e.path)}: {e.message[:300]}" for e in errors[:5])
        )
    return body
