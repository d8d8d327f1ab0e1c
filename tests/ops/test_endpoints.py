"""Operations endpoints, the error envelope of unexpected failures, request ids and JSON logs."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from spiko.app import create_app
from spiko.context import AppContext
from tests.conftest import basic_auth


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_when_the_database_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["database"] == "reachable"


def test_readyz_is_503_when_the_database_is_unreachable(settings, databases):
    if databases.is_postgres:
        broken = "postgresql://postgres@127.0.0.1:1/nowhere"  # nothing listens on port 1
    else:
        broken = "sqlite:////nonexistent-directory/for/sure/spiko.db"
    ctx = AppContext(settings.with_overrides(database_url=broken))
    try:
        with TestClient(create_app(ctx=ctx), raise_server_exceptions=False) as client:
            response = client.get("/readyz")
            assert response.status_code == 503
            assert response.json()["database"] == "unreachable"
            assert client.get("/healthz").status_code == 200  # the process itself is up
    finally:
        ctx.engine.dispose()


METRICS_TOKEN = "scrape-" + "t" * 32
SCRAPE = {"Authorization": f"Bearer {METRICS_TOKEN}"}


def test_metrics_count_requests_latency_and_auth_failures(client_with, investor):
    client = client_with(metrics_token=METRICS_TOKEN)
    client.get("/v1/investors/me", headers=investor.basic)
    client.get("/v1/investors/me", headers=basic_auth(investor.client_id, "sks_wrong"))
    client.get("/v1/investors/me", headers={"Authorization": "Digest x"})
    client.get("/v1/investors/me")
    text = client.get("/metrics", headers=SCRAPE).text
    assert re.search(
        r'spiko_http_requests_total\{method="GET",route="/v1/investors/me",status="200"\} 1\.0', text
    )
    assert re.search(
        r'spiko_http_requests_total\{method="GET",route="/v1/investors/me",status="401"\} 3\.0', text
    )
    assert (
        'spiko_http_request_duration_seconds_bucket{le="0.1",method="GET",route="/v1/investors/me"}' in text
    )
    assert 'spiko_auth_failures_total{reason="invalid_credentials",scheme="basic"} 1.0' in text
    assert 'spiko_auth_failures_total{reason="malformed",scheme="other"} 1.0' in text
    assert 'spiko_auth_failures_total{reason="missing",scheme="none"} 1.0' in text


def test_metrics_label_routes_not_raw_paths(client_with, investor):
    client = client_with(metrics_token=METRICS_TOKEN)
    for index in range(5):
        client.get(f"/v1/no-such-thing-{index}", headers=investor.basic)
    text = client.get("/metrics", headers=SCRAPE).text
    assert "no-such-thing" not in text
    assert 'route="unmatched"' in text


def test_docs_and_openapi(client):
    assert client.get("/docs").status_code == 200
    assert "swagger" in client.get("/docs").text.lower()
    spec = client.get("/openapi.json").json()
    me = spec["paths"]["/v1/investors/me"]["get"]
    assert me["operationId"] == "investors.getInvestor"
    listing = spec["paths"]["/v1/investors"]["get"]
    assert listing["deprecated"] is True


@pytest.mark.parametrize(
    ("path", "prefix", "title"),
    [("/v1/docs/openapi.json", "/v1", None), ("/v0/docs/openapi.json", "/v0", None)],
)
def test_each_api_publishes_its_own_specification(client, path, prefix, title):
    response = client.get(path)
    assert response.status_code == 200
    spec = response.json()
    assert spec["openapi"].startswith("3.")
    assert spec["servers"] == [{"url": "http://testserver" + prefix}]
    assert spec["paths"]
    if prefix == "/v1":
        assert "/investors/me" in spec["paths"]
        flow = spec["components"]["securitySchemes"]["oauth2"]["flows"]["authorizationCode"]
        assert flow["tokenUrl"] == "http://testserver/oauth2/token"


# --- unexpected errors -----------------------------------------------------------------------


@pytest.fixture
def failing_client(ctx):
    """The real application plus routes that fail, added only here."""
    app = create_app(ctx=ctx)

    async def explode() -> None:
        raise RuntimeError("boom: secret internals /etc/passwd")

    app.add_api_route("/v1/test-explode", explode)
    app.add_api_route("/oauth2/test-explode", explode)
    app.add_api_route("/test-page-explode", explode)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def json_log():
    """What the ``spiko`` loggers write, formatted by the application's JSON formatter."""
    import io
    import logging

    from spiko.core.observability import JsonFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("spiko")
    logger.addHandler(handler)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


def test_a_500_is_the_tagged_internal_server_error_without_a_traceback(failing_client, json_log):
    response = failing_client.get("/v1/test-explode", headers={"X-Request-ID": "req-12345678"})
    assert response.status_code == 500
    body = response.json()
    assert body == {
        "_tag": "InternalServerError",
        "message": "An unexpected error occurred",
        "requestId": "req-12345678",
    }
    assert "Traceback" not in response.text and "boom" not in response.text
    assert response.headers["x-request-id"] == "req-12345678"
    # The log has it, as one JSON record carrying the request id.
    logged = [json.loads(line) for line in json_log.getvalue().splitlines()]
    errors = [entry for entry in logged if entry["logger"] == "spiko.errors"]
    assert errors and errors[0]["request_id"] == "req-12345678"
    assert "RuntimeError" in errors[0]["exc"]


def test_a_500_on_the_oauth_endpoints_is_rfc6749_shaped(failing_client):
    response = failing_client.get("/oauth2/test-explode")
    assert response.status_code == 500
    assert response.json()["error"] == "server_error"
    assert "boom" not in response.text


def test_a_500_on_a_page_is_an_html_page(failing_client):
    response = failing_client.get("/test-page-explode", headers={"Accept": "text/html"})
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert "Something went wrong" in response.text
    assert "boom" not in response.text and "Traceback" not in response.text


def test_api_404_and_html_404(client):
    api = client.get("/v1/nothing-here")
    assert api.status_code == 404 and api.json()["_tag"] == "NotFoundError"
    page = client.get("/nothing-here")
    assert page.status_code == 404 and "Page not found" in page.text


# --- request ids and logs --------------------------------------------------------------------


def test_every_response_carries_a_request_id(client):
    first = client.get("/healthz").headers["x-request-id"]
    second = client.get("/healthz").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", first) and first != second


def test_an_incoming_request_id_is_honoured_when_well_formed(client):
    assert (
        client.get("/healthz", headers={"X-Request-ID": "abc-123_DEF.456"}).headers["x-request-id"]
        == "abc-123_DEF.456"
    )
    bad = client.get("/healthz", headers={"X-Request-ID": 'bad id" with quotes'}).headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", bad)


def test_access_log_lines_are_json_with_the_request_id(client, capfd, investor):
    from spiko.core.observability import access_lines

    client.get("/v1/investors/me", headers={**investor.basic, "X-Request-ID": "trace-abcdef01"})
    access_lines.flush()
    lines = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line.startswith("{")]
    mine = [entry for entry in lines if entry.get("request_id") == "trace-abcdef01"]
    assert mine, lines
    entry = mine[-1]
    assert entry["logger"] == "spiko.access"
    assert entry["status"] == 200 and entry["route"] == "/v1/investors/me" and entry["method"] == "GET"
    assert isinstance(entry["duration_ms"], float) and isinstance(entry["pid"], int)
    text = json.dumps(lines)
    assert investor.client_secret not in text
    assert investor.basic["Authorization"].split()[1] not in text
