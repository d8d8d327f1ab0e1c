"""Every operator command that changes something appends exactly one record to the audit log, in the
command's own transaction: with the operator's name, the action and its subject; a refused command
records nothing; and the log can only grow."""

from __future__ import annotations

import getpass
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from spiko.services import audit
from tests.audit.conftest import OPERATOR, PREVIOUS, TODAY, audit_rows, json_lines
from tests.world import World

# Each case: given the world, the command to run and the (action, subject) it must record; the
# subject may need what the command printed (an id it created).
Case = Callable[[World], tuple[list[str], str, Callable[[Any], str]]]


def _nav_publish(world: World) -> tuple[list[str], str, Callable[[Any], str]]:
    args = ["nav", "publish", "--share-class", "EUTBL", "--day", TODAY.isoformat(), "--value", "1.046"]
    return args, "nav.publish", lambda printed: "share_class:EUTBL"


def _deposit_fund(world: World) -> tuple[list[str], str, Callable[[Any], str]]:
    investor = world.investor()
    account = world.account(investor)
    created = world.deposit(investor, account, "1000.00").json()
    args = ["deposits", "fund", "--reference", created["wireInstructions"]["reference"]]
    return args, "deposit.fund", lambda printed: f"deposit_order:{created['id']}"


def _orders_execute(world: World) -> tuple[list[str], str, Callable[[Any], str]]:
    investor = world.investor()
    world.book_deposit(investor, world.open_account(investor), "1000.00")
    args = ["orders", "execute", "--day", PREVIOUS.isoformat()]
    return args, "orders.execute", lambda printed: f"day:{PREVIOUS.isoformat()}"


def _add_holiday(world: World) -> tuple[list[str], str, Callable[[Any], str]]:
    args = ["calendar", "add-holiday", "--fund", "EUTBL", "--day", "2025-03-12", "--label", "audit"]
    return args, "calendar.add_holiday", lambda printed: "fund:EUTBL"


def _remove_holiday(world: World) -> tuple[list[str], str, Callable[[Any], str]]:
    args = ["calendar", "remove-holiday", "--fund", "EUTBL", "--day", "2025-12-25"]
    return args, "calendar.remove_holiday", lambda printed: "fund:EUTBL"


def _api_deposits(world: World) -> tuple[list[str], str, Callable[[Any], str]]:
    return (
        ["share-classes", "api-deposits", "USTBL", "off"],
        "share_class.api_deposits",
        lambda p: "share_class:USTBL",
    )


def _investor_create(world: World) -> tuple[list[str], str, Callable[[Any], str]]:
    args = [
        "investors",
        "create",
        "--name",
        "Audit SAS",
        "--email",
        "audit@example.com",
        "--password",
        "long enough",
    ]
    return args, "investor.create", lambda printed: f"investor:{printed['investorId']}"


def _set_password(world: World) -> tuple[list[str], str, Callable[[Any], str]]:
    investor = world.investor()
    args = ["investors", "set-password", "--email", investor.email, "--password", "another long one"]
    return args, "user.set_password", lambda printed: f"user:{investor.email}"


def _api_key_create(world: World) -> tuple[list[str], str, Callable[[Any], str]]:
    investor = world.investor()
    args = ["api-keys", "create", "--email", investor.email, "--scope", "read"]
    return args, "api_key.create", lambda printed: f"api_key:{printed['client_id']}"


def _api_key_revoke(world: World) -> tuple[list[str], str, Callable[[Any], str]]:
    investor = world.investor()
    return (
        ["api-keys", "revoke", investor.client_id],
        "api_key.revoke",
        lambda p: f"api_key:{investor.client_id}",
    )


def _oauth_client_create(world: World) -> tuple[list[str], str, Callable[[Any], str]]:
    args = ["oauth-clients", "create", "--name", "Books", "--redirect-uri", "https://books.example/cb"]
    return args, "oauth_client.create", lambda printed: f"oauth_client:{printed['client_id']}"


def _bank_account_add(world: World) -> tuple[list[str], str, Callable[[Any], str]]:
    investor = world.investor()
    args = [
        "bank-accounts",
        "add",
        "--email",
        investor.email,
        "--iban",
        "DE89370400440532013000",
        "--bic",
        "DEUTDEFFXXX",
    ]
    return args, "bank_account.add", lambda printed: f"bank_account:{printed['id']}"


def _clock_set(world: World) -> tuple[list[str], str, Callable[[Any], str]]:
    return ["clock", "set", "--day", "2025-03-04"], "clock.set", lambda printed: "sandbox_clock"


def _fx_publish(world: World) -> tuple[list[str], str, Callable[[Any], str]]:
    args = ["fx", "publish", "--base", "EUR", "--quote", "USD", "--day", TODAY.isoformat(), "--rate", "1.08"]
    return args, "fx.publish", lambda printed: "fx:EUR/USD"


def _nav_grow(world: World) -> tuple[list[str], str, Callable[[Any], str]]:
    args = ["nav", "grow", "--day", TODAY.isoformat(), "--annual-rate", "0.035"]
    return args, "nav.grow", lambda printed: f"day:{TODAY.isoformat()}"


def _keys_rotate(world: World) -> tuple[list[str], str, Callable[[Any], str]]:
    return ["keys", "rotate"], "signing_keys.rotate", lambda printed: f"signing_key:{printed['kid']}"


def _reference_seed(world: World) -> tuple[list[str], str, Callable[[Any], str]]:
    return ["reference", "seed"], "reference.seed", lambda printed: "reference_data"


def _funds_configure(world: World) -> tuple[list[str], str, Callable[[Any], str]]:
    return (
        ["funds", "configure", "EUTBL", "--cut-off", "11:30"],
        "fund.configure",
        lambda printed: "fund:EUTBL",
    )


CASES: dict[str, Case] = {
    "funds configure": _funds_configure,
    "nav publish": _nav_publish,
    "nav grow": _nav_grow,
    "deposits fund": _deposit_fund,
    "orders execute": _orders_execute,
    "calendar add-holiday": _add_holiday,
    "calendar remove-holiday": _remove_holiday,
    "share-classes api-deposits": _api_deposits,
    "investors create": _investor_create,
    "investors set-password": _set_password,
    "api-keys create": _api_key_create,
    "api-keys revoke": _api_key_revoke,
    "oauth-clients create": _oauth_client_create,
    "bank-accounts add": _bank_account_add,
    "clock set": _clock_set,
    "fx publish": _fx_publish,
    "keys rotate": _keys_rotate,
    "reference seed": _reference_seed,
}


@pytest.mark.parametrize("name", list(CASES))
def test_an_operator_command_appends_exactly_one_record_naming_the_operator_and_the_subject(
    name, world, ctx, spiko
):
    args, action, subject = CASES[name](world)
    before = audit_rows(ctx)
    done = spiko(*args)
    assert done.returncode == 0, done.stderr
    new = audit_rows(ctx)[len(before) :]
    assert [(row.actor, row.action) for row in new] == [(OPERATOR, action)]
    assert new[0].subject == subject(done.json())
    assert "password" not in str(new[0].details) and "secret" not in str(new[0].details)


def test_the_record_holds_what_was_done(world, ctx, spiko):
    done = spiko("nav", "publish", "--share-class", "EUTBL", "--day", TODAY.isoformat(), "--value", "1.0461")
    assert done.returncode == 0, done.stderr
    (row,) = audit_rows(ctx)
    assert row.details == {"navId": done.json()["id"], "day": TODAY.isoformat(), "value": "1.046100"}
    assert abs((row.at.date() - date.today()).days) <= 1


def test_a_walk_of_the_sandbox_records_each_day_it_walked(world, ctx, spiko):
    done = spiko("sandbox", "advance", "--days", "2")
    assert done.returncode == 0, done.stderr
    rows = audit_rows(ctx)
    assert [(row.action, row.subject) for row in rows] == [
        ("sandbox.advance", f"day:{(TODAY + timedelta(days=1)).isoformat()}"),
        ("sandbox.advance", f"day:{(TODAY + timedelta(days=2)).isoformat()}"),
    ]


def test_a_configuration_records_what_it_was_and_what_it_became(world, ctx, spiko):
    done = spiko("funds", "configure", "EUTBL", "--execution-method", "unknownNAVs", "--cut-off", "11:30")
    assert done.returncode == 0, done.stderr
    (row,) = audit_rows(ctx)
    assert row.details["after"] == {"executionMethod": "unknownNAVs", "cutOff": "11:30"}
    assert row.details["before"] != row.details["after"]


def test_the_close_records_each_fund_whose_day_it_closed(world, ctx, spiko):
    for symbol, value in (("EUTBL", "1.0453"), ("USTBL", "1.0621"), ("UKTBL", "1.0")):
        world.publish(symbol, TODAY, value)
    investor = world.investor()
    world.book_deposit(investor, world.open_account(investor), "1000.00")
    done = spiko("close-day", "--day", TODAY.isoformat())
    assert done.returncode == 0, done.stderr
    closed = sorted(f"fund:{fund['fund']}" for fund in done.json()["funds"] if fund["status"] == "closed")
    rows = audit_rows(ctx)
    assert sorted(row.subject for row in rows) == closed and len(closed) == 3
    assert {(row.actor, row.action) for row in rows} == {(OPERATOR, "day.close")}
    eutbl = next(row for row in rows if row.subject == "fund:EUTBL")
    assert eutbl.details["day"] == TODAY.isoformat() and eutbl.details["depositsExecuted"] == 1
    again = spiko("close-day", "--day", TODAY.isoformat())  # already closed: nothing happens
    assert again.returncode == 0 and len(audit_rows(ctx)) == 3


def test_a_correction_records_the_order_what_it_was_and_why(world, ctx, spiko):
    for symbol, value in (("EUTBL", "1.0453"), ("USTBL", "1.0621"), ("UKTBL", "1.0")):
        world.publish(symbol, TODAY, value)
    investor = world.investor()
    order_id = world.book_deposit(investor, world.open_account(investor), "10453.00")
    assert spiko("close-day", "--day", TODAY.isoformat()).returncode == 0
    refused = spiko("orders", "correct", order_id, "--nav", "1.0453", "--reason", "same NAV")
    assert refused.returncode == 1
    done = spiko("orders", "correct", order_id, "--nav", "1.0000", "--reason", "NAV misstruck")
    assert done.returncode == 0, done.stderr
    corrections = [row for row in audit_rows(ctx) if row.action == "order.correct"]
    assert [(row.actor, row.subject) for row in corrections] == [(OPERATOR, f"deposit_order:{order_id}")]
    details = corrections[0].details
    assert details["reason"] == "NAV misstruck" and details["correctionId"] == done.json()["id"]
    assert (details["before"]["nav"], details["after"]["nav"]) == ("1.0453", "1")


def test_the_sandbox_simulations_over_http_are_recorded_as_the_investor_s(world, ctx, client_with):
    sandbox = client_with(sandbox_mode=True)
    investor = world.investor()
    actor = f"investor:{investor.investor_id}"
    published = sandbox.post(
        "/sandbox/nav",
        json={"shareClassId": world.share_classes["EUTBL"], "value": "1.046"},
        headers=investor.basic,
    )
    assert published.status_code == 200, published.text
    refused = sandbox.post(
        "/sandbox/nav",
        json={"shareClassId": world.share_classes["EUTBL"], "value": "1.047"},
        headers=investor.basic,
    )
    assert refused.status_code == 409  # the day has its NAV already: nothing recorded
    order = world.deposit(investor, world.account(investor), "1000.00").json()
    funded = sandbox.post(f"/sandbox/deposits/{order['id']}/fund", headers=investor.basic)
    assert funded.status_code == 200, funded.text
    walked = sandbox.post("/sandbox/advance", json={"days": 1}, headers=investor.basic)
    assert walked.status_code == 200, walked.text
    assert [(row.actor, row.action, row.subject) for row in audit_rows(ctx)] == [
        (actor, "nav.publish", "share_class:EUTBL"),
        (actor, "deposit.fund", f"deposit_order:{order['id']}"),
        (actor, "sandbox.advance", f"day:{walked.json()['today']}"),
    ]
    assert {row.details["via"] for row in audit_rows(ctx)} == {"sandbox API"}


def test_without_spiko_operator_the_actor_is_the_os_user(world, ctx, spiko, monkeypatch):
    monkeypatch.delenv("SPIKO_OPERATOR", raising=False)
    done = spiko("calendar", "add-holiday", "--fund", "EUTBL", "--day", "2025-03-12", operator=None)
    assert done.returncode == 0, done.stderr
    (row,) = audit_rows(ctx)
    assert row.actor == getpass.getuser()


REFUSED: dict[str, list[str]] = {
    "a NAV of an unknown share class": [
        "nav",
        "publish",
        "--share-class",
        "NOPE",
        "--day",
        "2025-03-03",
        "--value",
        "1",
    ],
    "a second NAV for the same day": [
        "nav",
        "publish",
        "--share-class",
        "EUTBL",
        "--day",
        PREVIOUS.isoformat(),
        "--value",
        "1.05",
    ],
    "funding an unknown wire reference": ["deposits", "fund", "--reference", "SPK-NOTHING"],
    "execution in the future": ["orders", "execute", "--day", "2030-01-02"],
    "a weekend holiday": ["calendar", "add-holiday", "--fund", "EUTBL", "--day", "2025-03-08"],
    "a holiday on a day with a NAV": [
        "calendar",
        "add-holiday",
        "--fund",
        "EUTBL",
        "--day",
        PREVIOUS.isoformat(),
    ],
    "a key for an unknown user": ["api-keys", "create", "--email", "nobody@example.com"],
    "revoking an unknown key": ["api-keys", "revoke", "spk_unknown"],
    "an investor with a short password": [
        "investors",
        "create",
        "--name",
        "X",
        "--email",
        "x@example.com",
        "--password",
        "short",
    ],
    "a bank account with a bad IBAN": [
        "bank-accounts",
        "add",
        "--email",
        "nobody@example.com",
        "--iban",
        "FR00",
        "--bic",
        "X",
    ],
    "switching deposits of an unknown share class": ["share-classes", "api-deposits", "NOPE", "on"],
    "a cut-off that is no time": ["funds", "configure", "EUTBL", "--cut-off", "25:00"],
    "a close without the day's NAVs": ["close-day", "--day", TODAY.isoformat()],
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_a_refused_command_records_nothing(name, world, ctx, spiko):
    done = spiko(*REFUSED[name])
    assert done.returncode != 0
    assert done.stderr.count("\n") == 1
    assert audit_rows(ctx) == []


def test_a_record_rolls_back_with_its_action(world, ctx):
    with pytest.raises(RuntimeError), ctx.transaction() as session:
        audit.record(session, action="nav.publish", subject="share_class:EUTBL")
        raise RuntimeError("the action failed after recording")
    assert audit_rows(ctx) == []


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"], ids=["update", "delete"]
)
def test_the_database_refuses_to_change_or_remove_a_record(statement, world, ctx, spiko):
    assert spiko("calendar", "add-holiday", "--fund", "EUTBL", "--day", "2025-03-12").returncode == 0
    with pytest.raises(DBAPIError, match="append-only"), ctx.transaction() as session:
        session.execute(text(statement))
    assert [(row.actor, row.action) for row in audit_rows(ctx)] == [(OPERATOR, "calendar.add_holiday")]


def test_postgresql_refuses_to_truncate_the_log(world, ctx, databases):
    if not databases.is_postgres:
        pytest.skip("SQLite has no TRUNCATE")
    with pytest.raises(DBAPIError, match="append-only"), ctx.transaction() as session:
        session.execute(text("TRUNCATE audit_log"))


def test_audit_list_prints_one_object_per_record_since_a_day(world, ctx, spiko):
    for day in ("2025-03-12", "2025-03-13"):
        assert spiko("calendar", "add-holiday", "--fund", "EUTBL", "--day", day).returncode == 0
    listed = spiko("audit", "list")
    assert listed.returncode == 0, listed.stderr
    records = json_lines(listed)
    assert [(record["actor"], record["action"], record["subject"]) for record in records] == [
        (OPERATOR, "calendar.add_holiday", "fund:EUTBL")
    ] * 2
    assert [record["details"]["day"] for record in records] == ["2025-03-12", "2025-03-13"]
    assert all(record["at"].endswith("Z") for record in records)
    recorded_on = date.fromisoformat(records[0]["at"][:10])
    assert json_lines(spiko("audit", "list", "--since", recorded_on.isoformat())) == records
    later = spiko("audit", "list", "--since", (recorded_on + timedelta(days=1)).isoformat())
    assert (later.returncode, later.stdout) == (0, "")


def test_listing_is_not_an_action(world, ctx, spiko):
    assert spiko("audit", "list").returncode == 0
    assert spiko("register", "reconcile").returncode == 0
    assert audit_rows(ctx) == []


def _writes_without_audit() -> list[str]:
    """Command handlers that open a write transaction and never call ``audit.record``."""
    import ast
    from pathlib import Path

    import spiko.cli

    missing = []
    for path in sorted(Path(spiko.cli.__file__).parent.glob("*.py")):
        for function in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(function, ast.FunctionDef):
                continue
            calls = [node for node in ast.walk(function) if isinstance(node, ast.Call)]
            writes = any(
                isinstance(call.func, ast.Attribute)
                and call.func.attr == "transaction"
                and not any(keyword.arg == "write" for keyword in call.keywords)
                for call in calls
            )
            audited = any(
                isinstance(call.func, ast.Attribute)
                and call.func.attr == "record"
                and isinstance(call.func.value, ast.Name)
                and call.func.value.id == "audit"
                for call in calls
            )
            if writes and not audited:
                missing.append(f"{path.name}:{function.name}")
    return missing


def test_every_command_that_writes_records_itself_in_the_audit_log():
    # A new operator command that changes something must append its record (or be listed here
    # with the reason it changes nothing an auditor needs).
    assert _writes_without_audit() == []
