"""The activity page and the owners' security mail: new keys, new apps, new devices."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import run_cli
from tests.mailserver import MailServer
from tests.web.conftest import create_key_on_page
from tests.world import sign_in


def fresh_browser(client: TestClient) -> TestClient:
    return TestClient(client.app, raise_server_exceptions=False, base_url="http://testserver")


def test_a_sign_in_from_a_new_device_is_mailed_to_the_owners_once(
    client: TestClient, investor: Any, smtp: MailServer
) -> None:
    assert sign_in(client, investor.email, investor.password).status_code == 303
    [notice] = smtp.wait_for(investor.email, subject="signed in")
    assert "device not seen before" in notice.text and "testclient" in notice.text
    # The same browser again: it is known now (its device cookie), so nothing is mailed.
    assert sign_in(client, investor.email, investor.password).status_code == 303
    assert len(smtp.wait_for(investor.email, 2, timeout=0.5, subject="signed in")) == 1
    # Another browser is a new device.
    assert sign_in(fresh_browser(client), investor.email, investor.password).status_code == 303
    assert len(smtp.wait_for(investor.email, 2, subject="signed in")) == 2


def test_a_new_key_is_mailed_to_the_owners_and_listed_on_the_activity_page(
    client: TestClient, investor: Any, smtp: MailServer
) -> None:
    sign_in(client, investor.email, investor.password)
    client_id, _, _ = create_key_on_page(client, "Nightly export")
    [mail] = smtp.wait_for(investor.email, subject="api key created")
    assert '"Nightly export"' in mail.text and mail.link("/activity") == "/activity"
    page = client.get("/activity").text
    assert 'data-kind="api_key_created"' in page and client_id in page
    assert 'data-kind="sign_in"' in page


def test_failed_sign_ins_show_on_the_activity_page_without_a_mail(
    client: TestClient, investor: Any, smtp: MailServer
) -> None:
    assert sign_in(fresh_browser(client), investor.email, "not the password").status_code == 400
    assert sign_in(fresh_browser(client), "nobody@nowhere.example", "not the password").status_code == 400
    sign_in(client, investor.email, investor.password)
    page = client.get("/activity").text
    assert page.count('data-kind="sign_in_failed"') == 1  # the unknown address is recorded nowhere
    assert smtp.to(investor.email, subject="failed") == []


def test_an_operator_s_key_is_mailed_to_the_owners_too(
    investor: Any, smtp: MailServer, database_url: str
) -> None:
    done = run_cli(
        database_url,
        "api-keys",
        "create",
        "--email",
        investor.email,
        "--name",
        "ops key",
        extra_env={"SPIKO_SMTP_URL": smtp.url},
    )
    assert done.returncode == 0, done.stderr
    [mail] = smtp.wait_for(investor.email, subject="api key created")
    assert '"ops key"' in mail.text and "an operator" in mail.text
