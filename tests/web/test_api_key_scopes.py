"""Choosing an API key's scopes on the integrations page: full access, read only, or custom."""

from __future__ import annotations

import base64
import html
import re

from spiko.auth import scopes
from tests.conftest import basic_auth
from tests.web.conftest import CLIENT_ID_RE, SECRET_RE, csrf_from

ACCESS_RE = re.compile(r'data-testid="new-key-access">([^<]+)<')


def create(client, name: str, **fields):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get("/integrations").text)
    return client.post("/integrations", data={"name": name, "csrf_token": token, **fields})


def credentials(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    client_id, secret = CLIENT_ID_RE.search(response.text), SECRET_RE.search(response.text)
    assert client_id and secret
    return basic_auth(html.unescape(client_id.group(1)), html.unescape(secret.group(1)))


def row_access(page: str, headers: dict[str, str]) -> str:
    """The Access cell of the key behind ``headers`` in the page's key list."""
    client_id = base64.b64decode(headers["Authorization"].split()[1]).decode().partition(":")[0]
    row = re.search(rf'<tr data-client-id="{client_id}">(.*?)</tr>', page, flags=re.S)
    assert row, page
    cell = re.search(r'<td data-testid="access-cell" data-scopes="([^"]*)">([^<]*)</td>', row.group(1))
    assert cell
    return cell.group(2)


def test_the_form_offers_full_read_only_and_each_scope(signed_in_client):
    page = signed_in_client.get("/integrations").text
    assert re.search(r'name="access" value="full" checked', page)  # the default
    assert 'name="access" value="read"' in page and 'name="access" value="custom"' in page
    offered = re.findall(r'name="scope" value="([^"]+)"', page)
    assert offered == list(scopes.FAMILIES)


def test_a_key_made_with_only_a_name_has_full_access(signed_in_client, client, investor):
    """Scripted clients that post only ``name`` and ``csrf_token`` get the key they always got."""
    response = create(signed_in_client, "Treasury")
    headers = credentials(response)
    assert ACCESS_RE.search(response.text).group(1) == "Full access"  # type: ignore[union-attr]
    body = {"type": "internal", "investorId": investor.investor_id, "shareClassId": investor.investor_id}
    assert client.post("/v1/accounts", json=body, headers=headers).status_code != 403
    assert row_access(signed_in_client.get("/integrations").text, headers) == "Full access"


def test_a_read_only_key_reads_and_cannot_write(signed_in_client, client, investor):
    response = create(signed_in_client, "Accounting export", access="read")
    headers = credentials(response)
    assert ACCESS_RE.search(response.text).group(1) == "Read only"  # type: ignore[union-attr]
    assert client.get("/v1/investors/me", headers=headers).json()["id"] == investor.investor_id
    body = {"type": "internal", "investorId": investor.investor_id, "shareClassId": investor.investor_id}
    refused = client.post("/v1/accounts", json=body, headers=headers)
    assert refused.status_code == 403 and refused.json()["_tag"] == "ForbiddenError"
    assert row_access(signed_in_client.get("/integrations").text, headers) == "Read only"


def test_a_custom_key_has_exactly_the_checked_scopes(signed_in_client, client, investor):
    response = create(signed_in_client, "Order bot", access="custom", scope=["orders:write", "orders:read"])
    headers = credentials(response)
    assert row_access(response.text, headers) == "orders:read, orders:write"
    me = client.get("/v1/investors/me", headers=headers)
    assert me.status_code == 403
    listed = client.get("/v1/deposit-orders", params={"investorId": investor.investor_id}, headers=headers)
    assert listed.status_code == 200


def test_custom_without_any_scope_or_with_an_unknown_one_is_refused(signed_in_client):
    before = signed_in_client.get("/integrations").text.count("<tr data-client-id=")
    nothing = create(signed_in_client, "Nothing", access="custom")
    assert nothing.status_code == 400 and "Choose at least one scope" in nothing.text
    unknown = create(signed_in_client, "Sneaky", access="custom", scope=["orders:read", "admin"])
    assert unknown.status_code == 400 and "unknown scope" in unknown.text
    assert not SECRET_RE.search(nothing.text + unknown.text)
    # The form comes back as it was filled in.
    assert re.search(r'name="access" value="custom" checked', unknown.text)
    assert re.search(r'name="scope" value="orders:read" checked', unknown.text)
    assert signed_in_client.get("/integrations").text.count("<tr data-client-id=") == before
