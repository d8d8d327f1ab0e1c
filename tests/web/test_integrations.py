"""The integrations page: create, list and revoke API keys; the secret is shown once."""

from __future__ import annotations

import re
import time

from sqlalchemy import select

from spiko.db.models.identity import ApiKey
from tests.conftest import basic_auth, create_investor
from tests.web.conftest import SECRET_RE, create_key_on_page, csrf_from, sign_in


def test_a_key_needs_a_name(signed_in_client):
    token = csrf_from(signed_in_client.get("/integrations").text)
    for name in ("", "   "):
        response = signed_in_client.post("/integrations", data={"name": name, "csrf_token": token})
        assert response.status_code == 400
        assert "An API key needs a name" in response.text
        assert not SECRET_RE.search(response.text)


def test_a_too_long_name_is_refused_with_a_message(signed_in_client):
    token = csrf_from(signed_in_client.get("/integrations").text)
    response = signed_in_client.post("/integrations", data={"name": "n" * 101, "csrf_token": token})
    assert response.status_code == 400
    assert "at most 100 characters" in response.text


def test_create_shows_the_secret_once_and_the_key_works(signed_in_client, client, investor):
    client_id, secret, response = create_key_on_page(signed_in_client, "Treasury reporting")
    assert client_id.startswith("spk_") and secret.startswith("sks_")
    assert len(secret) >= 4 + 43  # 256 bits of randomness, URL-safe base64
    assert "will not be shown again" in response.text
    assert response.headers["cache-control"] == "no-store"
    me = client.get("/v1/investors/me", headers=basic_auth(client_id, secret))
    assert me.status_code == 200 and me.json()["id"] == investor.investor_id
    # Never again: not on the page, not after signing out and in, nowhere.
    for path in ("/integrations", "/login", "/authorized-apps"):
        assert secret not in signed_in_client.get(path).text
    page = signed_in_client.get("/integrations").text
    assert client_id in page
    assert not SECRET_RE.search(page)


def test_the_list_shows_name_client_id_created_and_last_use(signed_in_client):
    client_id, _, _ = create_key_on_page(signed_in_client, "Reporting <robot>")
    page = signed_in_client.get("/integrations").text
    row = re.search(rf'<tr data-client-id="{client_id}">(.*?)</tr>', page, flags=re.S)
    assert row, page
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), flags=re.S)
    assert cells[0] == "Reporting &lt;robot&gt;"  # escaped
    assert client_id in cells[1]
    assert re.fullmatch(r"\d{1,2} [A-Z][a-z]{2,3} \d{4}, \d{2}:\d{2} UTC", cells[2])  # CLDR en_GB
    assert cells[3] == "never"
    for header in ("Name", "client_id", "Created", "Last used"):
        assert f'<th scope="col">{header}</th>' in page


def test_last_use_appears_after_the_flush_interval(client_with, investor):
    browser = client_with(api_key_last_used_flush_seconds=0.3)
    sign_in(browser, investor.email, investor.password)
    client_id, secret, _ = create_key_on_page(browser, "used key")
    assert browser.get("/v1/investors/me", headers=basic_auth(client_id, secret)).status_code == 200
    deadline = time.monotonic() + 5
    last_used = "never"
    while time.monotonic() < deadline:
        page = browser.get("/integrations").text
        row = re.search(rf'<tr data-client-id="{client_id}">(.*?)</tr>', page, flags=re.S)
        last_used = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), flags=re.S)[3]
        if last_used != "never":
            break
        time.sleep(0.1)
    assert re.fullmatch(r"\d{1,2} [A-Z][a-z]{2,3} \d{4}, \d{2}:\d{2} UTC", last_used)


def test_secrets_are_stored_only_as_hmac_hashes(signed_in_client, ctx):
    client_id, secret, _ = create_key_on_page(signed_in_client, "stored key")
    with ctx.transaction(write=False) as session:
        row = session.execute(select(ApiKey).where(ApiKey.client_id == client_id)).scalar_one()
        values = [str(getattr(row, column.key)) for column in ApiKey.__table__.columns]
    assert all(secret not in value for value in values)
    assert re.fullmatch(r"[0-9a-f]{64}", row.secret_hash)
    assert row.secret_hash == ctx.api_keys.hash_secret(secret)
    import hashlib

    assert row.secret_hash != hashlib.sha256(secret.encode()).hexdigest()  # keyed, not a bare hash


def test_at_most_20_live_keys_with_a_clear_message(signed_in_client, investor):
    # The investor fixture already holds one key.
    for index in range(19):
        create_key_on_page(signed_in_client, f"key {index}")
    token = csrf_from(signed_in_client.get("/integrations").text)
    response = signed_in_client.post("/integrations", data={"name": "one too many", "csrf_token": token})
    assert response.status_code == 400
    assert "You already have 20 active API keys, the maximum; revoke one to create another" in response.text
    assert not SECRET_RE.search(response.text)
    # Revoking one makes room again.
    client_id = re.search(r'<tr data-client-id="([^"]+)">', response.text).group(1)
    signed_in_client.post("/integrations", data={"revoke": client_id, "csrf_token": token})
    create_key_on_page(signed_in_client, "room again")


def test_revoke_from_the_page_is_refused_at_once_by_this_process(signed_in_client, client):
    client_id, secret, _ = create_key_on_page(signed_in_client, "short lived")
    headers = basic_auth(client_id, secret)
    assert client.get("/v1/investors/me", headers=headers).status_code == 200  # now cached
    token = csrf_from(signed_in_client.get("/integrations").text)
    response = signed_in_client.post("/integrations", data={"revoke": client_id, "csrf_token": token})
    assert response.status_code == 200
    assert "was revoked" in response.text
    assert f'data-client-id="{client_id}"' not in response.text
    refused = client.get("/v1/investors/me", headers=headers)
    assert refused.status_code == 401
    assert refused.json()["_tag"] == "InvestorAuthenticationError"


def test_an_investor_cannot_revoke_someone_elses_key(signed_in_client, client, ctx):
    other = create_investor(ctx)
    token = csrf_from(signed_in_client.get("/integrations").text)
    response = signed_in_client.post("/integrations", data={"revoke": other.client_id, "csrf_token": token})
    assert response.status_code == 404
    assert "No such API key" in response.text
    assert client.get("/v1/investors/me", headers=other.basic).status_code == 200


def test_the_page_lists_only_the_investors_own_keys(signed_in_client, ctx):
    other = create_investor(ctx)
    page = signed_in_client.get("/integrations").text
    assert other.client_id not in page


def test_posting_while_signed_out_creates_nothing(client, ctx, investor):
    response = client.post("/integrations", data={"name": "x", "csrf_token": "y"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    with ctx.transaction(write=False) as session:
        assert session.query(ApiKey).count() == 1
