"""The daily close, closed days, cut-offs and forward pricing, through the CLI and the API."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from spiko.db.models.orders import DepositOrder, WithdrawalOrder
from spiko.db.models.reporting import DailyPosition
from spiko.services import clock
from tests.orders.conftest import PREVIOUS, TODAY

TUESDAY = date(2025, 3, 4)


def _set_clock(world, day: date, at: time) -> None:
    with world.ctx.transaction() as session:
        clock.set_today(session, day, at)
    world.today = day


def _order(world, model, order_id):
    with world.ctx.transaction(write=False) as session:
        return session.get(model, order_id)


def test_funds_configure_sets_the_method_and_cut_off_and_refuses_bad_input(world, cli):
    code, fund, _ = cli(
        "funds", "configure", "EUTBL", "--execution-method", "unknownNAVs", "--cut-off", "11:30"
    )
    assert code == 0
    assert fund["executionMethod"] == "unknownNAVs" and fund["cutOff"] == "11:30"
    assert fund["timezone"] == "Europe/Paris"
    code, _, err = cli("funds", "configure", "EUTBL", "--cut-off", "25:00")
    assert code == 1 and "HH:MM" in err and len(err.strip().splitlines()) == 1
    code, _, err = cli("funds", "configure", "NOPE", "--cut-off", "10:00")
    assert code == 1 and "NOPE" in err
    code, _, err = cli("funds", "configure", "EUTBL")
    assert code == 1 and "nothing to configure" in err
    code, funds, _ = cli("funds", "list")
    assert {f["id"]: f["executionMethod"] for f in funds}  # the demo has a fund of each method
    assert {f["executionMethod"] for f in funds} == {"knownNAVs", "unknownNAVs"}


def test_the_trade_day_follows_the_cut_off_in_the_funds_timezone(world, investor):
    account = world.account(investor)
    # 14:59 UTC is 15:59 in Paris (winter): before EUTBL's 16:00 cut-off.
    _set_clock(world, TODAY, time(14, 59))
    before = world.deposit(investor, account, "5000.00").json()
    assert before["createdAt"].startswith("2025-03-03T14:59")
    _set_clock(world, TODAY, time(15, 0))
    after = world.deposit(investor, account, "5000.00").json()
    assert _order(world, DepositOrder, before["id"]).trade_day == TODAY
    assert _order(world, DepositOrder, after["id"]).trade_day == TUESDAY


def test_close_day_executes_books_every_account_and_closes_the_day(world, investor, cli):
    first, second, idle = world.account(investor), world.account(investor), world.account(investor)
    world.publish("EUTBL", TODAY, "1.045300")
    world.invest(investor, first, "10000.00")  # executed today, before the close
    bank = world.bank_account(investor)
    pending = world.deposit(investor, second, "2000.00").json()
    world.fund(pending["wireInstructions"]["reference"])
    withdrawal = world.withdraw(investor, first, bank, {"mode": "shares", "shares": "100"}).json()

    code, _, err = cli("close-day")
    assert code == 1 and "no NAV of USTBL" in err  # every share class needs its NAV
    assert _order(world, DepositOrder, pending["id"]).status == "pending"  # nothing half-written
    world.publish("USTBL", TODAY, "1.062100")
    world.publish("UKTBL", TODAY, "1.000000")
    code, summary, _ = cli("close-day", "--day", TODAY.isoformat())
    assert code == 0, summary
    eutbl = next(f for f in summary["funds"] if f["fund"] == "EUTBL")
    assert eutbl["status"] == "closed" and eutbl["navs"] == {"EUTBL": "1.0453"}
    assert eutbl["depositsExecuted"] == 1 and eutbl["withdrawalsExecuted"] == 1
    assert _order(world, DepositOrder, pending["id"]).status == "executed"
    assert _order(world, WithdrawalOrder, withdrawal["id"]).execution_day == TODAY
    with world.ctx.transaction(write=False) as session:
        booked = session.scalar(
            select(func.count()).select_from(DailyPosition).where(DailyPosition.day == TODAY)
        )
    assert booked == eutbl["positionsBooked"] == 2  # both accounts that hold shares; not the idle one
    assert idle

    code, again, _ = cli("close-day", "--day", TODAY.isoformat())
    assert code == 0 and {f["status"] for f in again["funds"]} == {"alreadyClosed"}
    code, _, err = cli(
        "nav", "publish", "--share-class", "EUTBL", "--day", TODAY.isoformat(), "--value", "1.05"
    )
    assert code == 1 and "already published" in err
    code, _, err = cli("close-day", "--day", PREVIOUS.isoformat())
    assert code == 1 and "closed through" in err
    code, _, err = cli("close-day", "--day", "2030-01-02")
    assert code == 1 and "has not come yet" in err


def test_a_closed_day_refuses_nav_funding_and_execution(world, investor, cli):
    account = world.account(investor)
    world.publish("EUTBL", TODAY, "1.045300")
    created = world.deposit(investor, account, "3000.00").json()
    reference = created["wireInstructions"]["reference"]
    code, _, err = cli("deposits", "fund", "--reference", reference, "--day", PREVIOUS.isoformat())
    assert code == 1 and "before the order existed" in err
    code, _, err = cli(
        "nav", "publish", "--share-class", "EUTBL", "--day", TUESDAY.isoformat(), "--value", "1.05"
    )
    assert code == 1 and "in the future" in err
    code, _, _ = cli("close-day", "--fund", "EUTBL")
    assert code == 0
    code, _, err = cli("deposits", "fund", "--reference", reference, "--day", TODAY.isoformat())
    assert code == 1 and "is closed" in err
    # Funded on the next day, it executes at the next close, never on the closed day.
    _set_clock(world, TUESDAY, time(9, 0))
    code, _, _ = cli("deposits", "fund", "--reference", reference)
    assert code == 0
    code, _, err = cli("orders", "execute", "--day", TODAY.isoformat())
    assert code == 1 and "closed" in err
    world.publish("EUTBL", TUESDAY, "1.045400")
    code, summary, _ = cli("close-day", "--fund", "EUTBL")
    assert code == 0 and summary["funds"][0]["depositsExecuted"] == 1
    order = _order(world, DepositOrder, created["id"])
    assert order.execution_day == TUESDAY and order.nav == Decimal("1.0454")


def test_forward_pricing_never_uses_a_nav_published_before_receipt(world, investor, cli):
    account = world.account(investor, "UKTBL")
    world.publish("UKTBL", TODAY, "1.000000")  # published at 09:00 UTC, before the order
    _set_clock(world, TODAY, time(10, 0))
    created = world.deposit(investor, account, "2000.00", "UKTBL", "GBP").json()
    order = _order(world, DepositOrder, created["id"])
    assert order.trade_day == TUESDAY  # today's NAV is known: the order trades on the next NAV
    world.fund(created["wireInstructions"]["reference"])
    code, summary, _ = cli("orders", "execute", "--day", TODAY.isoformat())
    assert code == 0 and summary["depositsExecuted"] == 0
    code, summary, _ = cli("close-day", "--fund", "UKTBL")
    assert code == 0 and summary["funds"][0]["depositsExecuted"] == 0
    _set_clock(world, TUESDAY, time(16, 0))  # after the 14:00 London cut-off: the NAV is struck
    world.publish("UKTBL", TUESDAY, "1.000100")
    code, summary, _ = cli("close-day", "--fund", "UKTBL")
    assert code == 0 and summary["funds"][0]["depositsExecuted"] == 1
    executed = _order(world, DepositOrder, created["id"])
    assert executed.execution_day == TUESDAY and executed.nav == Decimal("1.0001")


def _instant(world, investor, account, bank, value):
    body = {
        "accountId": account,
        "shareClassId": world.id("EUTBL"),
        "amount": {"value": value, "currency": "EUR"},
        "bankAccountId": bank,
    }
    response = world.client.post("/v1/redemption-orders/instant", json=body, headers=investor.basic)
    assert response.status_code == 200, response.text
    return _order(world, WithdrawalOrder, response.json()["id"])


def test_instant_redemption_is_booked_on_the_day_it_happens(world, investor, cli):
    account = world.account(investor)
    bank = world.bank_account(investor)
    world.publish("EUTBL", TODAY, "1.045300")
    world.invest(investor, account, "10000.00")
    _set_clock(world, TUESDAY, time(10, 0))  # Tuesday has no NAV yet: priced at Monday's
    order = _instant(world, investor, account, bank, "104.53")
    assert order.execution_day == TUESDAY and order.nav == Decimal("1.0453")
    assert order.executed_at.isoformat().startswith("2025-03-04T10:00")
    # Once Tuesday is closed, an instant redemption is booked on the next business day.
    for symbol in ("EUTBL", "USTBL", "UKTBL"):
        world.publish(symbol, TUESDAY, "1.100000")
    code, _, _ = cli("close-day")
    assert code == 0
    late = _instant(world, investor, account, bank, "110.00")
    assert late.execution_day == date(2025, 3, 5) and late.nav == Decimal("1.1")


def test_a_correction_is_a_reversal_plus_a_new_entry_on_an_open_day(world, investor, cli):
    account = world.account(investor)
    for symbol, value in (("EUTBL", "1.045300"), ("USTBL", "1.062100"), ("UKTBL", "1.000000")):
        world.publish(symbol, TODAY, value)
    order_id = world.invest(investor, account, "10453.00")  # 10,000 shares at 1.0453
    code, _, _ = cli("close-day")
    assert code == 0
    before = world.holdings(account)
    assert before == Decimal("10000")

    code, _, err = cli("orders", "correct", order_id, "--nav", "1.0453", "--reason", "same")
    assert code == 1 and "already priced" in err
    code, correction, _ = cli("orders", "correct", order_id, "--nav", "1.0000", "--reason", "NAV misstruck")
    assert code == 0, correction
    # Booked on Tuesday (Monday is closed), never on the day of the original entry.
    assert correction["day"] == TUESDAY.isoformat()
    assert correction["before"]["shares"] == "10000" and correction["after"]["shares"] == "10453"
    assert world.holdings(account) == Decimal("10453")
    with world.ctx.transaction(write=False) as session:
        from spiko.db.models.ledger import ShareMovement

        rows = session.scalars(
            select(ShareMovement).where(ShareMovement.order_id == order_id).order_by(ShareMovement.shares)
        ).all()
        order = session.get(DepositOrder, order_id)
    assert [(r.day, r.shares, r.correction_id is not None) for r in rows] == [
        (TUESDAY, Decimal("-10000"), True),
        (TODAY, Decimal("10000"), False),
        (TUESDAY, Decimal("10453"), True),
    ]
    assert order.shares == Decimal("10000") and order.execution_day == TODAY  # the order is not rewritten
    code, listed, _ = cli("orders", "corrections", "--order", order_id)
    assert code == 0 and [c["id"] for c in listed] == [correction["id"]]
    # Monday's stored position is untouched; Tuesday's close books the corrected one.
    _set_clock(world, TUESDAY, time(17, 0))
    for symbol, value in (("EUTBL", "1.045400"), ("USTBL", "1.062200"), ("UKTBL", "1.000100")):
        world.publish(symbol, TUESDAY, value)
    code, closed, err = cli("close-day")
    assert code == 0, err
    with world.ctx.transaction(write=False) as session:
        stored = {
            row.day: row.shares
            for row in session.scalars(select(DailyPosition).where(DailyPosition.account_id == account))
        }
    assert stored[TODAY] == Decimal("10000") and stored[TUESDAY] == Decimal("10453")
    code, _, err = cli("orders", "correct", "not-an-order", "--nav", "1.1", "--reason", "x")
    assert code == 1 and "no deposit or withdrawal order" in err


def test_the_positions_a_close_books_are_the_ledger_rolled_forward(world, investor, cli):
    """Every stored position (those PostgreSQL carries forward and those rolled in Python) equals
    what rolling the account's ledger from its first movement gives, column by column."""
    from spiko.services import reference
    from spiko.services.reporting import positions as store

    holders = [world.account(investor) for _ in range(3)]
    bank = world.bank_account(investor)
    for symbol, value in (("EUTBL", "1.045300"), ("USTBL", "1.062100"), ("UKTBL", "1.000000")):
        world.publish(symbol, TODAY, value)
    for index, account in enumerate(holders):
        world.invest(investor, account, f"{1000 * (index + 1)}.00")
    assert cli("close-day")[0] == 0
    # Tuesday: one account redeems, the others only earn; Friday after a week of closes.
    for offset, nav in enumerate(("1.045400", "1.045500", "1.045600", "1.045700"), start=1):
        day = date(2025, 3, 3 + offset)
        _set_clock(world, day, time(10, 0))
        if offset == 1:
            world.withdraw(investor, holders[0], bank, {"mode": "shares", "shares": "100"})
        for symbol in ("EUTBL", "USTBL", "UKTBL"):
            world.publish(symbol, day, nav)
        code, _, err = cli("close-day")
        assert code == 0, err
    columns = [attr.key for attr in DailyPosition.__mapper__.column_attrs]
    with world.ctx.transaction() as session:
        share_class = reference.get_share_class(session, world.id("EUTBL"))
        for account in holders:
            query = select(DailyPosition).where(DailyPosition.account_id == account)
            booked = {row.day: {c: getattr(row, c) for c in columns} for row in session.scalars(query)}
            assert max(booked) == date(2025, 3, 7)
            store.invalidate(session, account, share_class.id, TODAY - timedelta(days=30))
            store.materialize(session, account, share_class, through=date(2025, 3, 7))
            rolled = {row.day: {c: getattr(row, c) for c in columns} for row in session.scalars(query)}
            assert booked == rolled
        session.rollback()
