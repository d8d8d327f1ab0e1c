"""Properties of the register over random sequences of orders, daily closes and corrections.

On the real database, through the services: deposits (created at random times of day, funded),
withdrawals, transfers, instant redemptions, corrections of deposits and of withdrawals (by shares
and, for instant redemptions, by amount) and daily closes of a forward-priced (unknownNAVs) fund
whose NAVs are published at random times of the day. After each sequence:

1. No share and no cent is created or destroyed: summed over the accounts, the ledger equals the
   shares bought by executed deposits minus the shares redeemed (both as corrected), its cash in
   and out equal what the orders (as corrected) say, every correction is two ledger rows, the
   register reconciles, and every closed day's stored positions equal the ledger summed through
   that day, account by account.
2. Forward pricing: no order executed at a NAV published before (or when) it was received, nor
   on a day before its trade day.
3. Closed days stay closed: no ledger row is dated on a day closed before the row was written.
"""

from __future__ import annotations

import uuid
from datetime import time
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from spiko.db.models.funds import NetAssetValue
from spiko.db.models.ledger import ShareMovement
from spiko.db.models.orders import DepositOrder, WithdrawalOrder
from spiko.db.models.register import FundClose
from spiko.db.models.reporting import DailyPosition
from spiko.errors import ApiError
from spiko.services import (
    accounts,
    bank_accounts,
    clock,
    close,
    corrections,
    deposits,
    identity,
    reconcile,
    reference,
    transfers,
    withdrawals,
)

ACCOUNTS = 3


def cents(value: Decimal) -> Decimal:
    return value.scaleb(-2)


minutes = st.integers(min_value=0, max_value=23 * 60 + 59)
account_index = st.integers(min_value=0, max_value=ACCOUNTS - 1)
amounts = st.integers(min_value=1000_00, max_value=50_000_00).map(lambda n: Decimal(n).scaleb(-2))
shares = st.integers(min_value=10_00000, max_value=20_000_00000).map(lambda n: Decimal(n).scaleb(-5))
operations = st.one_of(
    st.tuples(st.just("deposit"), account_index, amounts, minutes),
    st.tuples(st.just("deposit"), account_index, amounts, minutes),
    st.tuples(st.just("withdraw"), account_index, shares, minutes),
    st.tuples(st.just("transfer"), account_index, account_index, shares),
    st.tuples(
        st.just("instant"), account_index, st.integers(100_00, 2000_00).map(lambda n: Decimal(n).scaleb(-2))
    ),
    st.tuples(st.just("correct"), st.integers(0, 20), st.integers(-3000, 3000)),
    st.tuples(st.just("correct-withdrawal"), st.integers(0, 20), st.integers(-3000, 3000)),
    st.tuples(st.just("correct-withdrawal"), st.integers(0, 20), st.integers(-3000, 3000)),
    st.tuples(st.just("nav"), minutes, st.integers(-2000, 3000)),
    st.tuples(st.just("nav"), minutes, st.integers(-2000, 3000)),
    st.tuples(
        st.just("close"),
    ),
    st.tuples(
        st.just("close"),
    ),
)


def _run(ctx, action):
    try:
        with ctx.transaction() as session:
            return action(session)
    except ApiError:
        return None  # refused: rolled back


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(operations, min_size=15, max_size=40))
def test_closes_and_corrections_conserve_shares_and_cash_and_price_forward(world, steps):
    ctx = world.ctx
    ukx = world.share_classes["UKTBL"]
    with ctx.transaction() as session:
        investor, _ = identity.create_investor(
            session, name="Register SAS", email=f"r-{uuid.uuid4().hex}@example.com",
            password="correct horse battery",
        )  # fmt: skip
        investor_id = investor.id
        account_ids = [
            accounts.create_account(session, investor_id=investor_id, share_class_id=ukx).id
            for _ in range(ACCOUNTS)
        ]
        bank_id = bank_accounts.add_bank_account(
            session, investor_id=investor_id, iban="GB29NWBK60161331926819", bic="NWBKGB2L", currency="GBP"
        ).id
        fund = reference.get_share_class(session, ukx).fund
        fund_id, fund_slug = fund.id, fund.slug
        day = clock.today(session)
        if reference.nav_on(session, ukx, day) is None:
            reference.publish_nav(session, ukx, day, Decimal("1.000000"))
    deposit_ids: list[str] = []
    withdrawal_ids: list[str] = []
    closed_ledgers: dict = {}  # closed day -> the ids of the rows dated on or before it, at its close

    def at(minute: int) -> None:
        with ctx.transaction() as session:
            today = clock.today(session)
            clock.set_today(session, today, time(minute // 60, minute % 60))

    for step in steps:
        kind = step[0]
        if kind == "deposit":
            at(step[3])
            order = _run(ctx, lambda s, st=step: deposits.create_deposit(
                s, investor_id=investor_id, account_id=account_ids[st[1]], share_class_id=ukx,
                amount=st[2], currency="GBP"))  # fmt: skip
            if order is not None:
                deposit_ids.append(order.id)
                _run(ctx, lambda s, w=order.wire_reference: deposits.fund_deposit(s, reference_text=w))
        elif kind == "withdraw":
            at(step[3])
            order = _run(ctx, lambda s, st=step: withdrawals.create_withdrawal(
                s, investor_id=investor_id, account_id=account_ids[st[1]], share_class_id=ukx,
                bank_account_id=bank_id, mode="shares", shares=st[2]))  # fmt: skip
            if order is not None:
                withdrawal_ids.append(order.id)
        elif kind == "transfer":
            _run(ctx, lambda s, st=step: transfers.create_transfer(
                s, investor_id=investor_id, from_account_id=account_ids[st[1]],
                to_account_id=account_ids[st[2]], share_class_id=ukx, mode="in-shares",
                shares=st[3]))  # fmt: skip
        elif kind == "instant":
            order = _run(ctx, lambda s, st=step: withdrawals.create_instant_redemption(
                s, investor_id=investor_id, investor_type="organization",
                account_id=account_ids[st[1]], share_class_id=ukx, bank_account_id=bank_id,
                amount=st[2], currency="GBP"))  # fmt: skip
            if order is not None:
                withdrawal_ids.append(order.id)  # by amount
        elif kind == "correct" and deposit_ids:
            target = deposit_ids[step[1] % len(deposit_ids)]
            nav = (Decimal("1.000000") * (1 + Decimal(step[2]).scaleb(-6))).quantize(Decimal("0.000001"))
            _run(ctx, lambda s, t=target, n=nav: corrections.correct_order(s, t, nav=n, reason="property"))
        elif kind == "correct-withdrawal" and withdrawal_ids:
            target = withdrawal_ids[step[1] % len(withdrawal_ids)]
            nav = (Decimal("1.000000") * (1 + Decimal(step[2]).scaleb(-6))).quantize(Decimal("0.000001"))
            _run(ctx, lambda s, t=target, n=nav: corrections.correct_order(s, t, nav=n, reason="property"))
        elif kind == "nav":
            at(step[1])
            with ctx.transaction() as session:
                today = clock.today(session)
                latest = reference.latest_nav(session, ukx, on_or_before=today)
                value = (latest.value * (1 + Decimal(step[2]).scaleb(-6))).quantize(Decimal("0.000001"))
            _run(ctx, lambda s, d=today, v=value: reference.publish_nav(s, ukx, d, v))
        elif kind == "close":
            with ctx.transaction() as session:
                today = clock.today(session)
                has_nav = reference.nav_on(session, ukx, today) is not None
            if has_nav and _run(ctx, lambda s, d=today: close.close_day(s, d, fund_slug=fund_slug)):
                with ctx.transaction() as session:
                    closed_ledgers[today] = set(
                        session.scalars(select(ShareMovement.id).where(ShareMovement.day <= today))
                    )
                    clock.set_today(session, reference.next_business_day(session, fund_id, today), time(8, 0))

    _check(ctx, investor_id, account_ids, ukx, fund_id, closed_ledgers)


def _check(ctx, investor_id, account_ids, share_class_id, fund_id, closed_ledgers):
    with ctx.transaction(write=False) as session:
        movements = list(
            session.scalars(select(ShareMovement).where(ShareMovement.investor_id == investor_id))
        )
        deposit_rows = list(
            session.scalars(select(DepositOrder).where(DepositOrder.investor_id == investor_id))
        )
        withdrawal_rows = list(
            session.scalars(select(WithdrawalOrder).where(WithdrawalOrder.investor_id == investor_id))
        )
        navs = {
            row.day: row
            for row in session.scalars(
                select(NetAssetValue).where(NetAssetValue.share_class_id == share_class_id)
            )
        }
        closes = {
            row.day: row.closed_at
            for row in session.scalars(select(FundClose).where(FundClose.fund_id == fund_id))
        }
        stored = list(session.scalars(select(DailyPosition).where(DailyPosition.investor_id == investor_id)))
        latest_correction = {}
        every_correction = corrections.list_corrections(session)
        for row in every_correction:  # the order's last correction says what it is now
            known = latest_correction.get(row.order_id)
            if known is None or row.sequence > known.sequence:
                latest_correction[row.order_id] = row
        balanced = [result.balanced for result in reconcile.reconcile(session)]

    # 1. Shares: the ledger equals deposits (as corrected) minus withdrawals.
    bought = sum(
        (
            latest_correction[d.id].new_shares if d.id in latest_correction else d.shares
            for d in deposit_rows
            if d.status == "executed"
        ),
        Decimal(0),
    )
    redeemed = sum(
        (
            latest_correction[w.id].new_shares if w.id in latest_correction else w.shares
            for w in withdrawal_rows
            if w.status == "executed"
        ),
        Decimal(0),
    )
    assert sum((m.shares for m in movements), Decimal(0)) == bought - redeemed
    # Cash: what the ledger says came in and went out is what the orders (as corrected) say.
    paid_in = sum((d.amount for d in deposit_rows if d.status == "executed"), Decimal(0))
    paid_out = sum(
        (
            latest_correction[w.id].new_amount if w.id in latest_correction else w.amount
            for w in withdrawal_rows
            if w.status == "executed"
        ),
        Decimal(0),
    )
    assert sum((m.amount for m in movements if m.kind == "subscription"), Decimal(0)) == paid_in
    assert sum((m.amount for m in movements if m.kind == "redemption"), Decimal(0)) == paid_out
    # Every correction is a reversal plus a new entry carrying its id, and the register balances.
    mine = {m.order_id for m in movements}
    for correction in (row for row in every_correction if row.order_id in mine):
        assert sum(1 for m in movements if m.correction_id == correction.id) == 2
    assert all(balanced)
    for account in account_ids:
        assert sum((m.shares for m in movements if m.account_id == account), Decimal(0)) >= 0
    # Every closed day's stored position is the ledger through that day.
    for position in stored:
        if position.day in closes:
            through = sum(
                (
                    m.shares
                    for m in movements
                    if m.account_id == position.account_id and m.day <= position.day
                ),
                Decimal(0),
            )
            assert position.shares == through
    # 2. Forward pricing, and never before the trade day.
    for order in [*deposit_rows, *withdrawal_rows]:
        if order.status != "executed" or getattr(order, "origin", "") == "instant-redemption":
            continue
        nav = navs[order.execution_day]
        assert nav.created_at > order.created_at
        assert order.execution_day >= order.trade_day
        assert order.nav == nav.value
    # 3. Nothing was dated on a day after it closed (the correction rows included).
    with ctx.transaction(write=False) as session:
        for day, ids in closed_ledgers.items():
            assert set(session.scalars(select(ShareMovement.id).where(ShareMovement.day <= day))) == ids
