"""/v1/webhook-endpoints: create, list, get, update, delete, rotate; secrets; refused URLs; isolation."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from spiko.db.models.webhooks import WebhookEndpoint
from tests.webhooks.conftest import endpoint


def test_create_answers_the_secret_once_and_stores_it_encrypted(client: Any, investor: Any, ctx: Any) -> None:
    created = endpoint(client, investor, "https://example.com/hooks", description="ledger sync")
    assert created["secret"].startswith("whsec_") and created["eventTypes"] is None and created["enabled"]
    shown = client.get(f"/v1/webhook-endpoints/{created['id']}", headers=investor.basic).json()
    assert "secret" not in shown and shown["url"] == "https://example.com/hooks"
    listed = client.get("/v1/webhook-endpoints", headers=investor.basic).json()
    assert [item["id"] for item in listed] == [created["id"]] and "secret" not in listed[0]
    with ctx.transaction(write=False) as session:
        row = session.scalar(select(WebhookEndpoint))
        assert row is not None
        stored = " ".join(str(value) for value in vars(row).values())
    raw = created["secret"].removeprefix("whsec_")
    assert created["secret"] not in stored and raw not in stored


def test_update_delete_and_rotate(client: Any, investor: Any) -> None:
    created = endpoint(client, investor, "https://example.com/a", eventTypes=["deposit_order.created"])
    path = f"/v1/webhook-endpoints/{created['id']}"
    updated = client.patch(
        path,
        json={"url": "https://example.com/b", "eventTypes": ["nav.published", "deposit_order.funded"]},
        headers=investor.basic,
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["url"] == "https://example.com/b"
    assert updated.json()["eventTypes"] == ["deposit_order.funded", "nav.published"]
    every = client.patch(path, json={"eventTypes": None, "enabled": False}, headers=investor.basic).json()
    assert every["eventTypes"] is None and every["enabled"] is False
    rotated = client.post(f"{path}/rotate-secret", headers=investor.basic)
    assert rotated.status_code == 200 and rotated.json()["secret"] != created["secret"]
    assert client.delete(path, headers=investor.basic).status_code == 204
    assert client.get(path, headers=investor.basic).status_code == 404


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"url": "ftp://example.com/x"}, "InvalidWebhookUrl"),
        ({"url": "not a url"}, "InvalidWebhookUrl"),
        ({"url": "http://example.com/hooks"}, "InvalidWebhookUrl"),  # plain http outside loopback
        ({"url": "https://user:pass@example.com/"}, "InvalidWebhookUrl"),
        ({"url": "https://example.com/", "eventTypes": ["deposit_order.exploded"]}, "UnknownEventType"),
        ({"url": "https://example.com/", "eventTypes": []}, "UnknownEventType"),
        ({"url": "https://example.com/", "description": "x" * 501}, "DescriptionTooLong"),
    ],
)
def test_bad_input_is_a_tagged_400_and_writes_nothing(
    client: Any, investor: Any, body: dict[str, Any], code: str
) -> None:
    response = client.post("/v1/webhook-endpoints", json=body, headers=investor.basic)
    assert response.status_code == 400, response.text
    assert response.json()["_tag"] == "ApplicationError" and response.json()["customErrorCode"] == code
    assert client.get("/v1/webhook-endpoints", headers=investor.basic).json() == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hooks",
        "https://10.0.0.8/hooks",
        "https://192.168.1.1/",
        "https://169.254.169.254/latest/meta-data/",  # cloud metadata (link-local)
        "https://[::1]/",
        "https://[fd00:ec2::254]/",
        "https://[::ffff:10.0.0.1]/",
        "https://0.0.0.0/",
        "https://localhost/",
    ],
)
def test_private_addresses_are_refused_unless_the_operator_allows_them(
    client_with: Any, investor: Any, url: str
) -> None:
    strict = client_with(webhook_allow_private_networks=False)
    response = strict.post("/v1/webhook-endpoints", json={"url": url}, headers=investor.basic)
    assert response.status_code == 400, response.text
    assert response.json()["customErrorCode"] == "InvalidWebhookUrl"


def test_endpoints_of_another_investor_are_not_found(client: Any, investor: Any, other_investor: Any) -> None:
    created = endpoint(client, investor, "https://example.com/hooks")
    path = f"/v1/webhook-endpoints/{created['id']}"
    for method, suffix, body in (
        ("GET", "", None),
        ("PATCH", "", {"description": "mine now"}),
        ("DELETE", "", None),
        ("POST", "/rotate-secret", None),
        ("POST", "/redeliver", {"since": "2020-01-01T00:00:00Z"}),
        ("GET", "/deliveries", None),
    ):
        response = client.request(method, path + suffix, json=body, headers=other_investor.basic)
        assert response.status_code == 404, (method, suffix, response.text)
    assert client.get("/v1/webhook-endpoints", headers=other_investor.basic).json() == []
    assert client.get(path, headers=investor.basic).json()["description"] == ""
    assert client.get("/v1/webhook-endpoints").status_code == 401
