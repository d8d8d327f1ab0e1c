"""HSTS on every response when the issuer is https, and never over a plain http issuer."""

from __future__ import annotations

from fastapi.testclient import TestClient

PATHS = ("/healthz", "/login", "/v1/investors/me", "/.well-known/openid-configuration", "/no-such-page")


def test_an_https_issuer_sends_hsts_everywhere(client_with) -> None:  # type: ignore[no-untyped-def]
    client: TestClient = client_with(base_url="https://spiko.example", issuer="https://spiko.example")
    for path in PATHS:
        response = client.get(path, follow_redirects=False)
        assert response.headers["strict-transport-security"] == "max-age=31536000", path


def test_a_plain_http_issuer_sends_none(client) -> None:  # type: ignore[no-untyped-def]
    for path in PATHS:
        assert "strict-transport-security" not in client.get(path, follow_redirects=False).headers
