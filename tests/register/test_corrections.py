"""Corrections of executed withdrawals: a reversal plus a new entry at the corrected NAV, through
the CLI, with the ledger, the positions, the audit log and the reconciliation after them."""

from __future__ import annotations

import json
from datetime import date, time
from decimal import Decimal

from sqlalchemy import select

from spiko.db.models.audit import AuditRecord
from spiko.db.models.ledger import ShareMovement
from spiko.db.models.orders import WithdrawalOrder
from spiko.db.models.reporting import DailyPosition
from spiko.services import clock
from tests.conftest import run_cli
from tests.orders.conftest import TODAY

TUESDAY = date(2025, 3, 4)
NAVS = {"EUTBL": "1.045300", "USTBL": "1.062100", "UKTBL": "1.000000"}


def _publish_all(world, day: date, navs: dict[str, str] = NAVS) -> None:
    for symbol, value in navs.items():
        world.publish(symbol, day, value)


def _rows(world, order_id: str) -> list[ShareMovement]:
    with world.ctx.transaction(write=False) as session:
        rows = list(
            session.scalars(
                select(ShareMovement)
                .where(ShareMovement.order_id == order_id)
                .order_by(ShareMovement.day, ShareMovement.correction_id.is_not(None), ShareMovement.shares)
            )
        )
        session.expunge_all()
        return rows


def _reconciled(database_url, tmp_path, day: date) -> dict[str, dict]:
    done = run_cli(database_url, "register", "reconcile", "--day", day.isoformat(), cwd=tmp_path)
    bodies = {body["shareClass"]: body for body in map(json.loads, done.stdout.splitlines())}
    assert done.returncode == 0, bodies["EUTBL"]["differences"]
    return bodies


def _withdrawn(world, investor, cli):
    """An account of 10,000 EUTBL shares (bought at 1.0453) and two withdrawals executed at
    Monday's close: 1,000 shares, and 1,045.30 EUR (1,000 shares at 1.0453); Monday closed."""
    account = world.account(investor)
    bank = world.bank_account(investor)
    _publish_all(world, TODAY)
    world.invest(investor, account, "10453.00")
    by_shares = world.withdraw(investor, account, bank, {"mode": "shares", "shares": "1000"}).json()["id"]
    by_amount = world.withdraw(
        investor, account, bank, {"mode": "amount", "amount": {"value": "1045.30", "currency": "EUR"}}
    ).json()["id"]
    code, _, err = cli("close-day")
    assert code == 0, err
    assert world.holdings(account) == Decimal("8000")
    return account, by_shares, by_amount


def test_a_withdrawal_by_shares_keeps_its_shares_and_changes_what_it_paid(
    world, investor, cli, database_url, tmp_path
):
    account, order_id, _ = _withdrawn(world, investor, cli)
    code, correction, err = cli(
        "orders", "correct", order_id, "--nav", "1.000000", "--reason", "NAV restated"
    )
    assert code == 0, err
    assert correction["orderKind"] == "withdrawal" and correction["day"] == TUESDAY.isoformat()
    assert correction["before"] == {"nav": "1.0453", "shares": "1000", "amount": "1045.3"}
    assert correction["after"] == {"nav": "1", "shares": "1000", "amount": "1000"}
    assert world.holdings(account) == Decimal("8000")  # the same shares left the account
    rows = _rows(world, order_id)
    assert [(r.day, r.shares, r.amount, r.nav, r.correction_id) for r in rows] == [
        (TODAY, Decimal("-1000"), Decimal("1045.30"), Decimal("1.0453"), None),
        (TUESDAY, Decimal("-1000"), Decimal("1000.00"), Decimal("1"), correction["id"]),  # new entry
        (TUESDAY, Decimal("1000"), Decimal("-1045.30"), Decimal("1.0453"), correction["id"]),  # reversal
    ]
    assert {r.kind for r in rows} == {"redemption"}
    with world.ctx.transaction(write=False) as session:
        order = session.get(WithdrawalOrder, order_id)
        assert (order.amount, order.nav, order.execution_day) == (
            Decimal("1045.30"),
            Decimal("1.0453"),
            TODAY,
        )
        audit = session.scalars(select(AuditRecord).where(AuditRecord.action == "order.correct")).one()
        assert audit.subject == f"withdrawal_order:{order_id}"
        assert audit.details["correctionId"] == correction["id"] and audit.details["reason"] == "NAV restated"
    # The cash out changed by 45.30 from Tuesday on; Monday's reconciliation is as it was.
    monday = _reconciled(database_url, tmp_path, TODAY)["EUTBL"]
    tuesday = _reconciled(database_url, tmp_path, TUESDAY)["EUTBL"]
    assert Decimal(monday["cashOut"]) == Decimal("2090.60")
    assert Decimal(tuesday["cashOut"]) == Decimal("2045.30")
    assert Decimal(tuesday["ordersCash"]) == Decimal("10453.00") - Decimal("2045.30")
    assert tuesday["holdersShares"] == tuesday["sharesInIssue"] == "8000.00000"


def test_a_withdrawal_by_amount_redeems_the_shares_its_amount_needs_at_the_corrected_nav(
    world, investor, cli, database_url, tmp_path
):
    account, _, order_id = _withdrawn(world, investor, cli)
    code, correction, err = cli(
        "orders", "correct", order_id, "--nav", "1.100000", "--reason", "NAV restated"
    )
    assert code == 0, err
    # ceil(1045.30 / 1.1) = 950.27273 shares, paid floor(950.27273 x 1.1) = 1045.30.
    assert correction["after"] == {"nav": "1.1", "shares": "950.27273", "amount": "1045.3"}
    assert world.holdings(account) == Decimal("8049.72727")
    # Corrected again: the reversal takes back the corrected entry, not the original one.
    code, again, err = cli("orders", "correct", order_id, "--nav", "1.000000", "--reason", "restated again")
    assert code == 0, err
    assert again["before"] == correction["after"]
    assert again["after"] == {"nav": "1", "shares": "1045.3", "amount": "1045.3"}
    assert world.holdings(account) == Decimal("7954.70")
    rows = _rows(world, order_id)
    assert len(rows) == 5 and sum(r.shares for r in rows) == Decimal("-1045.30")
    assert sum(r.amount for r in rows) == Decimal("1045.30")  # what was paid in the end
    tuesday = _reconciled(database_url, tmp_path, TUESDAY)["EUTBL"]
    assert tuesday["balanced"] is True and tuesday["holdersShares"] == "7954.70000"
    # Tuesday's close books the corrected position, and the realized accounting still adds up.
    with world.ctx.transaction() as session:
        clock.set_today(session, TUESDAY, time(17, 0))
    _publish_all(world, TUESDAY, {"EUTBL": "1.045400", "USTBL": "1.062200", "UKTBL": "1.000100"})
    code, _, err = cli("close-day")
    assert code == 0, err
    with world.ctx.transaction(write=False) as session:
        stored = {
            row.day: row
            for row in session.scalars(select(DailyPosition).where(DailyPosition.account_id == account))
        }
    assert stored[TODAY].shares == Decimal("8000") and stored[TUESDAY].shares == Decimal("7954.70")
    last = stored[TUESDAY]
    assert last.redemptions == 0  # each reversal takes back what its new entry pays
    gain = last.realized_gain_total + last.transferred_gain_total + (last.holdings - last.cost_basis)
    assert gain == last.yield_total


def test_a_correction_of_a_withdrawal_is_refused_in_one_line_when_there_is_nothing_to_correct(
    world, investor, cli
):
    account, order_id, _ = _withdrawn(world, investor, cli)
    bank = world.bank(investor)
    code, _, err = cli("orders", "correct", order_id, "--nav", "1.0453", "--reason", "same")
    assert code == 1 and "already priced at 1.0453" in err and len(err.strip().splitlines()) == 1
    response = world.withdraw(investor, account, bank, {"mode": "shares", "shares": "200"})
    assert response.status_code == 200, response.text
    pending = response.json()["id"]
    code, _, err = cli("orders", "correct", pending, "--nav", "1.1", "--reason", "too early")
    assert code == 1 and "only executed orders are corrected" in err and len(err.strip().splitlines()) == 1
    canceled = world.withdraw(investor, account, bank, {"mode": "shares", "shares": "200"}).json()["id"]
    assert (
        world.client.post(f"/v1/withdrawal-orders/{canceled}/cancel", headers=investor.basic).status_code
        < 300
    )
    code, _, err = cli("orders", "correct", canceled, "--nav", "1.1", "--reason", "canceled")
    assert code == 1 and "the order is canceled" in err
    code, _, err = cli("orders", "correct", order_id, "--nav", "0", "--reason", "zero")
    assert code == 2 and "not a positive decimal number" in err  # a usage error
    code, _, err = cli("orders", "correct", order_id, "--nav", "1.1234567891234", "--reason", "precise")
    assert code == 1 and len(err.strip().splitlines()) == 1
    code, _, err = cli("orders", "correct", order_id, "--nav", "1.1", "--reason", "  ")
    assert code == 1 and "reason" in err
    code, _, err = cli(
        "orders", "correct", "00000000-0000-0000-0000-000000000000", "--nav", "1.1", "--reason", "x"
    )
    assert code == 1 and "no deposit or withdrawal order" in err
    assert [r.correction_id for r in _rows(world, order_id)] == [None]  # nothing half-written
    with world.ctx.transaction(write=False) as session:
        assert not session.scalars(select(AuditRecord).where(AuditRecord.action == "order.correct")).all()


def test_a_withdrawal_correction_is_booked_on_an_open_day_never_on_a_closed_one(world, investor, cli):
    account, order_id, _ = _withdrawn(world, investor, cli)
    # Tuesday closes too: the correction goes to Wednesday.
    with world.ctx.transaction() as session:
        clock.set_today(session, TUESDAY, time(17, 0))
    _publish_all(world, TUESDAY, {"EUTBL": "1.045400", "USTBL": "1.062200", "UKTBL": "1.000100"})
    code, _, err = cli("close-day", "--day", TUESDAY.isoformat())
    assert code == 0, err
    code, correction, err = cli("orders", "correct", order_id, "--nav", "1.0", "--reason", "late")
    assert code == 0, err
    assert correction["day"] == "2025-03-05"
    assert {r.day for r in _rows(world, order_id) if r.correction_id} == {date(2025, 3, 5)}
    assert world.holdings(account) == Decimal("8000")
