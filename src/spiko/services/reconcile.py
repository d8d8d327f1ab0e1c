"""Reconciliation of the register: the share ledger checked against the orders, per share class.

Two books record every execution independently: the orders (``deposit_orders``,
``withdrawal_orders``, ``transfer_orders``, each with the shares and cash it executed) and the
share ledger (``share_movements``, one signed row per account). At the end of a day D, for each
share class:

* **Shares.** The holders' shares (every account's holding: the sum of its ledger rows dated on
  or before D) add up to the *shares in issue*, which the orders say: the shares of every
  executed deposit minus those of every executed withdrawal, both executed on or before D.
  Transfers move shares between holders and issue none, so the shares the executed transfer
  orders moved must equal both the shares their incoming rows added and their outgoing rows
  removed. No account holds a negative number of shares.
* **Cash.** The cash in (the ledger's subscriptions) minus the cash out (its redemptions) equals
  the cash the orders say: executed deposits' amounts minus executed withdrawals' payments.
* **Corrections.** A correction (``order_corrections``) books a reversal and a new entry in the
  ledger and leaves its order as executed, so on the orders' side the shares and cash in issue
  move by what it changed (new minus old), from the day it was booked. Its ledger rows are
  subscriptions or redemptions like any other, so the cash in and out count them: a withdrawal's
  correction changes the cash out by what the new entry pays minus what the reversal takes back.
* **Positions.** Every stored daily position of D (``daily_positions``) holds the shares the
  ledger gives its account.

A difference in any of these names what does not agree; nothing is ever corrected here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from spiko.db.models.funds import ShareClass
from spiko.db.models.ledger import ShareMovement
from spiko.db.models.orders import DepositOrder, TransferOrder, WithdrawalOrder
from spiko.db.models.register import OrderCorrection
from spiko.db.models.reporting import DailyPosition
from spiko.domain.money import exact_sum
from spiko.errors import ApplicationError
from spiko.services import clock, reference, sums

ZERO = Decimal(0)


@dataclass(frozen=True)
class ShareClassReconciliation:
    """The reconciliation of one share class at the end of ``day``; ``differences`` says what
    does not agree, one sentence each (empty: balanced)."""

    day: date
    share_class: ShareClass
    holders_shares: Decimal
    shares_in_issue: Decimal
    holders: int
    transferred_in: Decimal
    transferred_out: Decimal
    transfer_orders_shares: Decimal
    cash_in: Decimal
    cash_out: Decimal
    orders_cash: Decimal
    positions_checked: int
    differences: list[str] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        return not self.differences

    @property
    def ledger_cash(self) -> Decimal:
        return self.cash_in - self.cash_out

    def summary(self) -> dict[str, Any]:
        """What a close keeps of it (plain JSON): the share class, the verdict and the two totals."""
        return {
            "shareClass": self.share_class.symbol,
            "balanced": self.balanced,
            "sharesInIssue": _plain(self.shares_in_issue),
            "ordersCash": _plain(self.orders_cash),
            "differences": list(self.differences),
        }


class RegisterNotBalanced(ApplicationError):
    """The register does not balance on a day (the close refuses to close it)."""

    def __init__(self, results: Iterable[ShareClassReconciliation]) -> None:
        self.results = [result for result in results if not result.balanced]
        detail = "; ".join(
            f"{result.share_class.symbol}: {'; '.join(result.differences)}" for result in self.results
        )
        day = self.results[0].day.isoformat() if self.results else "?"
        super().__init__(f"the register does not balance on {day}: {detail}", "RegisterNotBalanced")


def reconcile(
    session: Session, day: date | None = None, *, fund_id: str | None = None
) -> list[ShareClassReconciliation]:
    """Reconcile every share class (of one fund, with ``fund_id``) at the end of ``day`` (default:
    today on the sandbox clock); one result per share class, in symbol order."""
    day = day or clock.today(session)
    share_classes = [
        share_class
        for share_class in reference.list_share_classes(session)
        if fund_id is None or share_class.fund_id == fund_id
    ]
    if not share_classes:
        return []
    class_ids = [share_class.id for share_class in share_classes]
    ledger, holdings = _ledger(session, class_ids, day)
    deposits = _executed(session, DepositOrder, class_ids, day)
    withdrawals = _executed(session, WithdrawalOrder, class_ids, day)
    transfers = _transfers(session, class_ids, day)
    corrected = _corrections(session, class_ids, day)
    positions = _stored_positions(session, class_ids, day)
    results = []
    for share_class in share_classes:
        by_kind = ledger[share_class.id]
        held = holdings[share_class.id]
        deposit_shares, deposit_cash = deposits.get(share_class.id, (ZERO, ZERO))
        withdrawal_shares, withdrawal_cash = withdrawals.get(share_class.id, (ZERO, ZERO))
        corrected_shares, corrected_cash = corrected.get(share_class.id, (ZERO, ZERO))
        _, cash_in = by_kind.get("subscription", (ZERO, ZERO))
        _, cash_out = by_kind.get("redemption", (ZERO, ZERO))
        transferred_in, _ = by_kind.get("transfer_in", (ZERO, ZERO))
        transferred_out, _ = by_kind.get("transfer_out", (ZERO, ZERO))
        result = ShareClassReconciliation(
            day=day,
            share_class=share_class,
            holders_shares=exact_sum(held.values()),
            shares_in_issue=deposit_shares - withdrawal_shares + corrected_shares,
            holders=sum(1 for shares in held.values() if shares > 0),
            transferred_in=transferred_in,
            transferred_out=-transferred_out,
            transfer_orders_shares=transfers.get(share_class.id, ZERO),
            cash_in=cash_in,
            cash_out=cash_out,
            orders_cash=deposit_cash - withdrawal_cash + corrected_cash,
            positions_checked=len(positions[share_class.id]),
        )
        result.differences.extend(_differences(result, held, positions[share_class.id]))
        results.append(result)
    return results


def require_balanced(
    session: Session, day: date, *, fund_id: str | None = None
) -> list[ShareClassReconciliation]:
    """Reconcile and raise :class:`RegisterNotBalanced` when anything does not balance."""
    results = reconcile(session, day, fund_id=fund_id)
    if any(not result.balanced for result in results):
        raise RegisterNotBalanced(results)
    return results


def _plain(value: Decimal) -> str:
    """A number as people write it: no exponent, no trailing zeros (the databases' scales differ)."""
    return format(value.normalize(), "f") if value else "0"


def _differences(
    result: ShareClassReconciliation, held: dict[str, Decimal], stored: dict[str, Decimal]
) -> list[str]:
    found = []
    if result.holders_shares != result.shares_in_issue:
        found.append(
            f"holders hold {_plain(result.holders_shares)} shares "
            f"but {_plain(result.shares_in_issue)} are in issue "
            f"(difference {_plain(result.holders_shares - result.shares_in_issue)})"
        )
    if not result.transferred_in == result.transferred_out == result.transfer_orders_shares:
        found.append(
            f"transfers added {_plain(result.transferred_in)} shares "
            f"and removed {_plain(result.transferred_out)} "
            f"but the transfer orders moved {_plain(result.transfer_orders_shares)}"
        )
    if result.ledger_cash != result.orders_cash:
        found.append(
            f"cash in minus cash out is {_plain(result.ledger_cash)} "
            f"but the orders say {_plain(result.orders_cash)} "
            f"(difference {_plain(result.ledger_cash - result.orders_cash)})"
        )
    negative = sorted(account_id for account_id, shares in held.items() if shares < 0)
    if negative:
        found.append(f"{len(negative)} account(s) hold a negative number of shares (first: {negative[0]})")
    wrong = sorted(
        account_id for account_id, shares in stored.items() if shares != held.get(account_id, ZERO)
    )
    if wrong:
        found.append(
            f"{len(wrong)} stored daily position(s) disagree with the ledger (first: account {wrong[0]})"
        )
    return found


def _ledger(
    session: Session, class_ids: list[str], day: date
) -> tuple[dict[str, dict[str, tuple[Decimal, Decimal]]], dict[str, dict[str, Decimal]]]:
    """From one read of the ledger up to ``day``: the shares and cash per share class and kind of
    movement, and every account's holding per share class."""
    by_kind: dict[str, dict[str, list[tuple[Decimal, Decimal]]]] = defaultdict(lambda: defaultdict(list))
    by_account: dict[str, dict[str, list[Decimal]]] = defaultdict(lambda: defaultdict(list))
    for (class_id, account_id, kind), (shares, amount) in sums.grouped_sums(
        session,
        [ShareMovement.share_class_id, ShareMovement.account_id, ShareMovement.kind],
        [ShareMovement.shares, ShareMovement.amount],
        ShareMovement.share_class_id.in_(class_ids),
        ShareMovement.day <= day,
    ):
        by_kind[class_id][kind].append((shares, amount))
        by_account[class_id][account_id].append(shares)
    kinds = {
        class_id: {
            kind: (exact_sum(shares for shares, _ in pairs), exact_sum(amount for _, amount in pairs))
            for kind, pairs in groups.items()
        }
        for class_id, groups in by_kind.items()
    }
    holdings = {
        class_id: {account_id: exact_sum(shares) for account_id, shares in accounts.items()}
        for class_id, accounts in by_account.items()
    }
    return defaultdict(dict, kinds), defaultdict(dict, holdings)


def _executed(
    session: Session, model: type[DepositOrder] | type[WithdrawalOrder], class_ids: list[str], day: date
) -> dict[str, tuple[Decimal, Decimal]]:
    """Shares and cash of the executed orders of one kind per share class, up to ``day``."""
    return {
        class_id: (shares, amount)
        for (class_id,), (shares, amount) in sums.grouped_sums(
            session,
            [model.share_class_id],
            [model.shares, model.amount],
            model.share_class_id.in_(class_ids),
            model.status == "executed",
            model.execution_day <= day,
        )
    }


def _transfers(session: Session, class_ids: list[str], day: date) -> dict[str, Decimal]:
    return {
        class_id: shares
        for (class_id,), (shares,) in sums.grouped_sums(
            session,
            [TransferOrder.share_class_id],
            [TransferOrder.shares],
            TransferOrder.share_class_id.in_(class_ids),
            TransferOrder.status == "executed",
            TransferOrder.day <= day,
        )
    }


def _corrections(session: Session, class_ids: list[str], day: date) -> dict[str, tuple[Decimal, Decimal]]:
    """What the corrections booked up to ``day`` changed, per share class: the shares and cash a
    deposit's correction adds (new minus old), or a withdrawal's takes away."""
    changed: dict[str, tuple[Decimal, Decimal]] = {}
    for (class_id, kind), (new_shares, old_shares, new_amount, old_amount) in sums.grouped_sums(
        session,
        [OrderCorrection.share_class_id, OrderCorrection.order_kind],
        [
            OrderCorrection.new_shares,
            OrderCorrection.old_shares,
            OrderCorrection.new_amount,
            OrderCorrection.old_amount,
        ],
        OrderCorrection.share_class_id.in_(class_ids),
        OrderCorrection.day <= day,
    ):
        sign = -1 if kind == "withdrawal" else 1
        shares, cash = changed.get(class_id, (ZERO, ZERO))
        changed[class_id] = (
            shares + sign * (new_shares - old_shares),
            cash + sign * (new_amount - old_amount),
        )
    return changed


def _stored_positions(session: Session, class_ids: list[str], day: date) -> dict[str, dict[str, Decimal]]:
    """The shares of every daily position stored for ``day``, per share class and account."""
    stored: dict[str, dict[str, Decimal]] = defaultdict(dict)
    rows = session.execute(
        select(DailyPosition.share_class_id, DailyPosition.account_id, DailyPosition.shares).where(
            DailyPosition.share_class_id.in_(class_ids), DailyPosition.day == day
        )
    )
    for class_id, account_id, shares in rows:
        stored[class_id][account_id] = shares
    return stored
