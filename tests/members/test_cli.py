"""Operators' commands: members, roles, invitations and the activity of an investor."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import run_cli
from tests.mailserver import MailServer


def spiko(database_url: str, smtp: MailServer, *args: str) -> Any:
    return run_cli(database_url, *args, extra_env={"SPIKO_SMTP_URL": smtp.url})


def test_an_operator_lists_invites_and_changes_members(database_url: str, smtp: MailServer) -> None:
    created = spiko(
        database_url,
        smtp,
        "investors",
        "create",
        "--name",
        "Orbit SA",
        "--email",
        "ceo@orbit.example",
        "--password",
        "correct horse 12",
    )
    assert created.returncode == 0, created.stderr
    [owner] = json.loads(spiko(database_url, smtp, "members", "list", "--email", "ceo@orbit.example").stdout)
    assert (owner["email"], owner["role"], owner["emailVerified"]) == ("ceo@orbit.example", "owner", False)

    last = spiko(
        database_url, smtp, "members", "set-role", "--email", "ceo@orbit.example", "--role", "viewer"
    )
    assert last.returncode != 0 and "at least one owner" in last.stderr

    invited = spiko(
        database_url,
        smtp,
        "members",
        "invite",
        "--email",
        "ceo@orbit.example",
        "--invite",
        "CFO@orbit.example",
        "--role",
        "admin",
    )
    assert invited.returncode == 0, invited.stderr
    assert json.loads(invited.stdout)["invited"] == "cfo@orbit.example"
    [mail] = smtp.wait_for("cfo@orbit.example", subject="invited you")
    assert "an operator invited you to join Orbit SA on Spiko as admin" in mail.text

    lines = json.loads(spiko(database_url, smtp, "activity", "list", "--email", "ceo@orbit.example").stdout)
    assert [(line["kind"], line["details"]["email"]) for line in lines] == [
        ("member_invited", "cfo@orbit.example")
    ]
