"""The investor app's /settings/webhooks: list, create with event types, rotate, delete, the log."""

from __future__ import annotations

import html
import re
from typing import Any

from tests.web.conftest import csrf_from, sign_in
from tests.webhooks.conftest import deliver_until

SECRET_RE = re.compile(r'data-testid="secret">([^<]+)<')


def signed_in(client: Any, investor: Any) -> Any:
    assert sign_in(client, investor.email, investor.password).status_code == 303
    return client


def post(client: Any, **data: Any) -> Any:
    token = csrf_from(client.get("/settings/webhooks").text)
    return client.post("/settings/webhooks", data={"csrf_token": token, **data})


def test_create_rotate_delete_and_the_log(
    client: Any, investor: Any, other_investor: Any, receivers: Any, worker: Any
) -> None:
    page = signed_in(client, investor)
    assert page.get("/settings/webhooks").status_code == 200
    receiver = receivers()
    created = post(page, action="create", url=receiver.url, event_types=["api_key.created"], description="ci")
    assert created.status_code == 200, created.text
    assert created.headers["cache-control"] == "no-store"
    secret = html.unescape(SECRET_RE.search(created.text).group(1))  # type: ignore[union-attr]
    assert secret.startswith("whsec_")
    receiver.secret = secret
    listed = page.get("/settings/webhooks").text
    assert receiver.url in listed and secret not in listed and "api_key.created" in listed
    (endpoint,) = client.get("/v1/webhook-endpoints", headers=investor.basic).json()
    assert endpoint["eventTypes"] == ["api_key.created"] and endpoint["description"] == "ci"
    # an event, delivered, shows in the log
    token = csrf_from(page.get("/integrations").text)
    assert page.post("/integrations", data={"name": "for the log", "csrf_token": token}).status_code == 200
    deliver_until(worker, lambda: len(receiver.verified()) == 1)
    assert "HTTP 200" in page.get("/settings/webhooks").text
    rotated = post(page, action="rotate", endpoint_id=endpoint["id"])
    new_secret = html.unescape(SECRET_RE.search(rotated.text).group(1))  # type: ignore[union-attr]
    assert new_secret != secret
    # another investor's endpoint cannot be touched from this page
    other = client.post(
        "/v1/webhook-endpoints", json={"url": receiver.url}, headers=other_investor.basic
    ).json()
    refused = post(page, action="delete", endpoint_id=other["id"])
    assert refused.status_code == 404
    assert client.get(f"/v1/webhook-endpoints/{other['id']}", headers=other_investor.basic).status_code == 200
    deleted = post(page, action="delete", endpoint_id=endpoint["id"])
    assert deleted.status_code == 200 and "deleted" in deleted.text
    assert client.get("/v1/webhook-endpoints", headers=investor.basic).json() == []


def test_bad_input_is_shown_and_nothing_is_created(client: Any, investor: Any) -> None:
    page = signed_in(client, investor)
    for data, message in (
        ({"url": "ftp://example.com/"}, "https://"),
        ({"url": "https://example.com/", "description": "x" * 501}, "at most 500"),
        ({"url": "https://example.com/", "event_types": ["nope.nope"]}, "unknown event type"),
    ):
        response = post(page, action="create", **data)
        assert response.status_code == 400 and message in response.text
    assert client.get("/v1/webhook-endpoints", headers=investor.basic).json() == []


def test_signed_out_or_without_csrf_nothing_happens(client: Any, investor: Any) -> None:
    assert client.get("/settings/webhooks", follow_redirects=False).status_code == 303
    response = client.post(
        "/settings/webhooks", data={"action": "create", "url": "https://example.com/"}, follow_redirects=False
    )
    assert response.status_code in (303, 403)
    signed_in(client, investor)
    forged = client.post("/settings/webhooks", data={"action": "create", "url": "https://example.com/"})
    assert forged.status_code in (400, 403)
    assert client.get("/v1/webhook-endpoints", headers=investor.basic).json() == []
