"""``spiko register reconcile``: the register balances on the demo and on a day of mixed orders, and any
tampering with the ledger, the orders or the stored positions made directly in SQL is found, named,
and exits 1."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from spiko.context import AppContext
from spiko.db.models.funds import ShareClass
from spiko.db.models.orders import Account
from spiko.demo import seed_demo
from spiko.services import clock, reconcile
from spiko.services.reporting import positions
from tests.audit.conftest import TODAY, json_lines
from tests.world import World

DEMO_TODAY = date(2025, 6, 2)


@pytest.fixture
def demo(ctx: AppContext) -> AppContext:
    """The demo's world (``spiko serve --demo``) on a fixed day."""
    with ctx.transaction() as session:
        clock.set_today(session, DEMO_TODAY)
    seed_demo(ctx)
    return ctx


def _reconciled(spiko, *args: str) -> tuple[int, dict[str, dict], str]:
    done = spiko("register", "reconcile", *args)
    return done.returncode, {body["shareClass"]: body for body in json_lines(done)}, done.stderr


def test_the_demo_balances(demo, spiko):
    code, bodies, stderr = _reconciled(spiko)
    assert (code, stderr) == (0, "")
    assert set(bodies) == {"EUTBL", "USTBL", "UKTBL"}
    for body in bodies.values():
        assert body["balanced"] is True and body["differences"] == []
        assert body["day"] == DEMO_TODAY.isoformat()
        assert body["holdersShares"] == body["sharesInIssue"]
        cash = Decimal(body["cashIn"]) - Decimal(body["cashOut"])
        assert cash == Decimal(body["ordersCash"])
    eutbl = bodies["EUTBL"]
    # The demo holds EUTBL in two accounts, moved shares between them, and redeemed some.
    assert eutbl["holders"] == 2 and Decimal(eutbl["holdersShares"]) > 0
    assert eutbl["transferredIn"] == eutbl["transferredOut"] == eutbl["transferOrdersShares"] != "0.00000"
    assert Decimal(eutbl["cashIn"]) > Decimal(eutbl["cashOut"]) > 0


def test_a_day_before_any_order_balances_at_zero(demo, spiko):
    code, bodies, _ = _reconciled(spiko, "--day", (DEMO_TODAY - timedelta(days=3650)).isoformat())
    assert code == 0
    assert {body["holdersShares"] for body in bodies.values()} == {"0.00000"}


def test_every_kind_of_order_balances(world: World, spiko):
    alice, bob = world.investor(), world.investor(investor_type="organization")
    first, second = world.open_account(alice), world.open_account(alice)
    other = world.open_account(bob, "USTBL")
    world.publish("EUTBL", TODAY, "1.046")
    world.publish("USTBL", TODAY, "1.063")
    world.book_deposit(alice, first, "100000.00")
    world.book_deposit(bob, other, "5000.00", "USTBL")
    world.execute()
    world.book_transfer(alice, first, second, Decimal("1000"))
    world.book_withdrawal(alice, second, mode="shares", shares=Decimal("400"))
    world.book_withdrawal(alice, first, mode="amount", amount=Decimal("2500.00"))
    world.execute()
    code, bodies, _ = _reconciled(spiko)
    assert code == 0, bodies
    eutbl = bodies["EUTBL"]
    assert eutbl["transferOrdersShares"] == "1000.00000"
    assert Decimal(eutbl["cashOut"]) > Decimal("2500")
    assert bodies["USTBL"]["cashIn"] == "5000.00"


def _tamper(ctx: AppContext, statement: str, **params: object) -> None:
    with ctx.transaction() as session:
        session.execute(text(statement), params)


def _one_movement(ctx: AppContext, kind: str) -> str:
    with ctx.transaction(write=False) as session:
        return str(
            session.scalar(
                text(
                    "SELECT m.id FROM share_movements m JOIN share_classes c ON c.id = m.share_class_id"
                    " WHERE m.kind = :kind AND c.symbol = 'EUTBL' ORDER BY m.day LIMIT 1"
                ),
                {"kind": kind},
            )
        )


def test_shares_that_appear_in_the_ledger_without_an_order_are_found(demo, spiko):
    source = _one_movement(demo, "subscription")
    _tamper(
        demo,
        "INSERT INTO share_movements (id, investor_id, account_id, share_class_id, kind, order_id, day,"
        " executed_at, shares, amount, nav, cost, currency, created_at)"
        " SELECT 'tampered-0000-0000-0000-000000000001', investor_id, account_id, share_class_id, kind,"
        " order_id, day, executed_at, shares, amount, nav, cost, currency, created_at"
        " FROM share_movements WHERE id = :source",
        source=source,
    )
    code, bodies, stderr = _reconciled(spiko)
    assert code == 1
    assert bodies["EUTBL"]["balanced"] is False
    assert bodies["USTBL"]["balanced"] is True
    holders, in_issue = Decimal(bodies["EUTBL"]["holdersShares"]), Decimal(bodies["EUTBL"]["sharesInIssue"])
    assert holders > in_issue
    differences = bodies["EUTBL"]["differences"]
    assert any("in issue" in line for line in differences)
    assert any("cash in minus cash out" in line for line in differences)
    (line,) = stderr.splitlines()
    assert (
        line.startswith("spiko register reconcile: error: the register does not balance") and "EUTBL" in line
    )


def test_cash_booked_in_the_ledger_unlike_its_order_is_found(demo, spiko):
    _tamper(
        demo,
        "UPDATE share_movements SET amount = '1.00' WHERE id = :id",
        id=_one_movement(demo, "redemption"),
    )
    code, bodies, _ = _reconciled(spiko)
    assert code == 1
    (difference,) = bodies["EUTBL"]["differences"]
    assert difference.startswith("cash in minus cash out is")


def test_an_order_whose_shares_were_changed_is_found(demo, spiko):
    _tamper(
        demo,
        "UPDATE deposit_orders SET shares = '1'"
        " WHERE id = (SELECT order_id FROM share_movements WHERE id = :id)",
        id=_one_movement(demo, "subscription"),
    )
    code, bodies, _ = _reconciled(spiko)
    assert code == 1
    (difference,) = bodies["EUTBL"]["differences"]
    assert "are in issue" in difference


def test_one_leg_of_a_transfer_removed_is_found(demo, spiko):
    _tamper(demo, "DELETE FROM share_movements WHERE id = :id", id=_one_movement(demo, "transfer_out"))
    code, bodies, _ = _reconciled(spiko)
    assert code == 1
    differences = bodies["EUTBL"]["differences"]
    assert any(line.startswith("transfers added") for line in differences)
    assert any("in issue" in line for line in differences)


def test_a_stored_position_unlike_the_ledger_is_found(demo, spiko):
    with demo.transaction() as session:
        eutbl = session.scalar(select(ShareClass).where(ShareClass.symbol == "EUTBL"))
        account_ids = list(session.scalars(select(Account.id).where(Account.share_class_id == eutbl.id)))
        for account_id in account_ids:
            positions.materialize(session, account_id, eutbl)
    day = (DEMO_TODAY - timedelta(days=7)).isoformat()
    code, bodies, _ = _reconciled(spiko, "--day", day)
    assert code == 0 and bodies["EUTBL"]["positionsChecked"] == len(account_ids)
    _tamper(demo, "UPDATE daily_positions SET shares = '7' WHERE day = :day", day=day)
    code, bodies, _ = _reconciled(spiko, "--day", day)
    assert code == 1
    (difference,) = bodies["EUTBL"]["differences"]
    assert "stored daily position" in difference


def test_the_close_can_refuse_a_register_that_does_not_balance(demo):
    with demo.transaction(write=False) as session:
        assert all(result.balanced for result in reconcile.require_balanced(session, DEMO_TODAY))
    _tamper(demo, "DELETE FROM share_movements WHERE id = :id", id=_one_movement(demo, "redemption"))
    with demo.transaction(write=False) as session:
        fund_id = session.scalar(select(ShareClass.fund_id).where(ShareClass.symbol == "USTBL"))
        assert reconcile.require_balanced(session, DEMO_TODAY, fund_id=fund_id)
        with pytest.raises(reconcile.RegisterNotBalanced, match="EUTBL"):
            reconcile.require_balanced(session, DEMO_TODAY)


def test_the_close_refuses_a_day_that_does_not_balance_and_leaves_it_open(world: World, spiko):
    for symbol, value in (("EUTBL", "1.0453"), ("USTBL", "1.0621"), ("UKTBL", "1.0")):
        world.publish(symbol, TODAY, value)
    investor = world.investor()
    world.book_deposit(investor, world.open_account(investor), "1000.00")
    world.book_deposit(investor, world.open_account(investor), "2500.00")
    world.execute()
    source = _one_movement(world.ctx, "subscription")
    _tamper(
        world.ctx,
        "UPDATE share_movements SET shares = '1' WHERE id = :id",
        id=source,
    )
    refused = spiko("close-day", "--day", TODAY.isoformat())
    assert refused.returncode == 1 and refused.stdout == ""
    (line,) = refused.stderr.splitlines()
    assert "EUTBL does not reconcile on 2025-03-03, so the day stays open" in line and "in issue" in line
    assert [fund["closedThrough"] for fund in spiko("funds", "list").json()] == [None, None, None]


def test_after_a_close_every_account_s_position_is_checked(world: World, spiko):
    for symbol, value in (("EUTBL", "1.0453"), ("USTBL", "1.0621"), ("UKTBL", "1.0")):
        world.publish(symbol, TODAY, value)
    investor = world.investor()
    accounts = [world.open_account(investor) for _ in range(3)]
    for account in accounts:
        world.book_deposit(investor, account, "1000.00")
    closed = spiko("close-day", "--day", TODAY.isoformat())
    assert closed.returncode == 0, closed.stderr
    eutbl = next(fund for fund in closed.json()["funds"] if fund["fund"] == "EUTBL")
    (kept,) = eutbl["reconciliation"]
    assert kept["shareClass"] == "EUTBL" and kept["balanced"] is True
    code, bodies, _ = _reconciled(spiko, "--day", TODAY.isoformat())
    assert code == 0 and bodies["EUTBL"]["positionsChecked"] == 3 and bodies["EUTBL"]["holders"] == 3


def test_a_correction_keeps_the_register_balanced_from_the_day_it_is_booked(world: World, spiko):
    for symbol, value in (("EUTBL", "1.0453"), ("USTBL", "1.0621"), ("UKTBL", "1.0")):
        world.publish(symbol, TODAY, value)
    investor = world.investor()
    order_id = world.book_deposit(investor, world.open_account(investor), "10453.00")
    assert spiko("close-day", "--day", TODAY.isoformat()).returncode == 0
    corrected = spiko("orders", "correct", order_id, "--nav", "1.0000", "--reason", "NAV misstruck")
    assert corrected.returncode == 0, corrected.stderr
    booked = corrected.json()["day"]  # the next open day
    code, on_close, _ = _reconciled(spiko, "--day", TODAY.isoformat())
    assert code == 0 and on_close["EUTBL"]["sharesInIssue"] == "10000.00000"
    code, after, _ = _reconciled(spiko, "--day", booked)
    assert code == 0, after["EUTBL"]["differences"]
    assert after["EUTBL"]["sharesInIssue"] == after["EUTBL"]["holdersShares"] == "10453.00000"
    assert after["EUTBL"]["ordersCash"] == after["EUTBL"]["cashIn"] == "10453.00"
