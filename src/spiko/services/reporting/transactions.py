"""An account's transactions: its deposit, withdrawal and transfer orders, the entries of their
corrections, and its daily yield accruals.

One listing merges seven sources — deposits, withdrawals, transfers out, transfers in, the ledger
rows of corrections of deposits and of withdrawals, and the yield accruals of the materialized
daily positions — each read with the page's keyset condition and ``LIMIT page + 1`` (the orders
and accruals through an index on ``(account, timestamp, id)``), then merged in memory. The cost
of a page is therefore a few range reads of at most ``limit + 1`` rows each, whatever the number
of transactions the account has. The sort key is an order's creation time, a correction entry's
booking time, or for a yield accrual the midnight (UTC) ending its day, then the id.

A correction shows as two items of its order's type (a deposit's are subscriptions, a
withdrawal's redemptions), both executed when the correction was booked: the reversal of the
order's entry until then, its shares and amount negated, and the new entry at the corrected NAV.
Each has the id of its ledger row; searching for the order's id finds the order and its entries.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, String, and_, bindparam, cast, false, func, or_, select, tuple_
from sqlalchemy.orm import Session

from spiko.db.models.funds import NetAssetValue, ShareClass
from spiko.db.models.identity import Investor
from spiko.db.models.ledger import ShareMovement
from spiko.db.models.orders import Account, BankAccount, DepositOrder, TransferOrder, WithdrawalOrder
from spiko.db.models.reporting import DailyPosition as DailyPositionRow
from spiko.db.types import UTCDateTime
from spiko.domain.cursor import Cursor
from spiko.domain.money import withdrawal_estimate
from spiko.errors import InvariantError

TRANSACTION_TYPES = ("deposit", "withdrawal", "transfer", "yield")
DEFAULT_LIMIT = 50
# NAVs are published every business day: a fortnight back always reaches the one in force.
_NAV_LOOKBACK_DAYS = 14
MAX_LIMIT = 10_000

# Words a search matches for every item of a source (the names the listing shows).
_SOURCE_WORDS = {
    "deposit": "deposit subscription",
    "withdrawal": "withdrawal redemption",
    "transfer_out": "transfer transferfrom",
    "transfer_in": "transfer transferto",
    "yield": "yield",
    "deposit_correction": "deposit subscription correction",
    "withdrawal_correction": "withdrawal redemption correction",
}
# The ledger kind of a correction's rows, per source.
_CORRECTION_KINDS = {"deposit_correction": "subscription", "withdrawal_correction": "redemption"}


@dataclass(frozen=True)
class Page:
    items: list[Transaction]
    last: Cursor | None
    has_more: bool


@dataclass(frozen=True)
class _Entry:
    timestamp: datetime
    id: str
    source: str
    row: Any


def _keyset(timestamp_column: Any, id_column: Any, cursor: Cursor | None, direction: str) -> Any:
    if cursor is None:
        return None
    key = tuple_(
        bindparam(None, cursor.timestamp, type_=UTCDateTime()),
        bindparam(None, cursor.item_id, type_=String()),
    )
    row = tuple_(timestamp_column, id_column)
    return row < key if direction == "desc" else row > key


def _ordered(
    query: Select[Any], timestamp_column: Any, id_column: Any, direction: str, limit: int
) -> Select[Any]:
    if direction == "desc":
        query = query.order_by(timestamp_column.desc(), id_column.desc())
    else:
        query = query.order_by(timestamp_column.asc(), id_column.asc())
    return query.limit(limit)


def _contains(column: Any, term: str) -> Any:
    return func.lower(cast(column, String)).contains(term, autoescape=True)


def _search_clause(source: str, term: str | None, columns: Sequence[Any]) -> Any:
    if not term:
        return None
    if any(term in word for word in _SOURCE_WORDS[source].split()):
        return None
    if not columns:
        return false()
    return or_(*(_contains(column, term) for column in columns))


def _fetch(
    session: Session,
    source: str,
    account_id: str,
    cursor: Cursor | None,
    direction: str,
    limit: int,
    term: str | None,
) -> list[_Entry]:
    model: Any
    if source == "deposit":
        model, account_column = DepositOrder, DepositOrder.account_id
        search_columns = [
            DepositOrder.id,
            DepositOrder.wire_reference,
            DepositOrder.status,
            DepositOrder.amount,
        ]
    elif source == "withdrawal":
        model, account_column = WithdrawalOrder, WithdrawalOrder.account_id
        search_columns = [WithdrawalOrder.id, WithdrawalOrder.status, WithdrawalOrder.amount]
    elif source == "transfer_out":
        model, account_column = TransferOrder, TransferOrder.from_account_id
        search_columns = [TransferOrder.id, TransferOrder.status, TransferOrder.amount]
    elif source == "transfer_in":
        model, account_column = TransferOrder, TransferOrder.to_account_id
        search_columns = [TransferOrder.id, TransferOrder.status, TransferOrder.amount]
    elif source in _CORRECTION_KINDS:
        model, account_column = ShareMovement, ShareMovement.account_id
        search_columns = [ShareMovement.order_id, ShareMovement.correction_id, ShareMovement.amount]
    else:
        model, account_column = DailyPositionRow, DailyPositionRow.account_id
        search_columns = [DailyPositionRow.day, DailyPositionRow.yield_]
    if source == "yield":
        timestamp_column = DailyPositionRow.accrual_at
    elif source in _CORRECTION_KINDS:
        timestamp_column = ShareMovement.executed_at
    else:
        timestamp_column = model.created_at
    conditions = [account_column == account_id]
    if source == "yield":
        conditions.append(DailyPositionRow.accrual_at.is_not(None))
    if source in _CORRECTION_KINDS:
        conditions += [
            ShareMovement.correction_id.is_not(None),
            ShareMovement.kind == _CORRECTION_KINDS[source],
        ]
    keyset = _keyset(timestamp_column, model.id, cursor, direction)
    if keyset is not None:
        conditions.append(keyset)
    search = _search_clause(source, term, search_columns)
    if search is not None:
        conditions.append(search)
    query = _ordered(select(model).where(and_(*conditions)), timestamp_column, model.id, direction, limit)
    entries = []
    for row in session.scalars(query):
        timestamp = getattr(row, timestamp_column.key)
        entries.append(_Entry(timestamp, row.id, source, row))
    return entries


def sources_for(transaction_type: str | None) -> list[str]:
    if transaction_type is None:
        return [
            "deposit",
            "deposit_correction",
            "withdrawal",
            "withdrawal_correction",
            "transfer_out",
            "transfer_in",
            "yield",
        ]
    if transaction_type == "transfer":
        return ["transfer_out", "transfer_in"]
    if transaction_type in ("deposit", "withdrawal"):
        return [transaction_type, f"{transaction_type}_correction"]
    return [transaction_type]


def list_transactions(
    session: Session,
    account: Account,
    *,
    cursor: Cursor | None,
    direction: str = "desc",
    limit: int = DEFAULT_LIMIT,
    transaction_type: str | None = None,
    search: str | None = None,
) -> Page:
    term = search.strip().lower() if search and search.strip() else None
    streams = [
        _fetch(session, source, account.id, cursor, direction, limit + 1, term)
        for source in sources_for(transaction_type)
    ]
    reverse = direction == "desc"
    merged = list(heapq.merge(*streams, key=lambda entry: (entry.timestamp, entry.id), reverse=reverse))
    page, has_more = merged[:limit], len(merged) > limit
    items = _Loader(session, account).load(page)
    last = Cursor(page[-1].timestamp, page[-1].id, direction) if page and has_more else None
    return Page(items, last, has_more)


# --- what a page's items need -------------------------------------------------------------------

TransactionRow = DepositOrder | WithdrawalOrder | TransferOrder | DailyPositionRow | ShareMovement


@dataclass(frozen=True)
class Transaction:
    """One item of the listing, with what its wire shape needs (``presenters.account_transactions``)."""

    source: str  # "deposit", "withdrawal", "transfer_out", "transfer_in", "yield" or "…_correction"
    row: TransactionRow
    account_id: str
    share_class: ShareClass
    bank_account: BankAccount | None = None
    nav_at_creation: Decimal | None = None  # withdrawals: the NAV in force on their creation day
    investor_name: str = ""  # transfers: the investor on both sides
    order: DepositOrder | WithdrawalOrder | None = None  # a correction entry's order

    @property
    def reversal(self) -> bool:
        """Whether a correction entry is the reversal: it moves shares against its kind."""
        row = self.row
        if not isinstance(row, ShareMovement):
            return False
        return row.shares < 0 if row.kind == "subscription" else row.shares > 0

    @property
    def estimate(self) -> Decimal:
        """A withdrawal's expected payment: what its execution at ``nav_at_creation`` would pay
        (``domain.money.withdrawal_estimate``, the rule it executes by); 0 before any NAV."""
        order = self.row
        if not isinstance(order, WithdrawalOrder) or self.nav_at_creation is None:
            return Decimal(0)
        reserved = order.requested_shares if order.requested_shares is not None else order.reserved_shares
        return withdrawal_estimate(
            order.quantity_mode,
            self.nav_at_creation,
            order.currency,
            self.share_class.share_decimals,
            amount=order.requested_amount,
            shares=reserved,
        )


class _Loader:
    """Loads what one page's items need in a few queries."""

    def __init__(self, session: Session, account: Account) -> None:
        self.session = session
        self.account = account
        self._share_classes: dict[str, ShareClass] = {}
        self._navs: dict[str, tuple[list[date], list[NetAssetValue]]] = {}

    def share_class(self, share_class_id: str) -> ShareClass:
        if share_class_id not in self._share_classes:
            share_class = self.session.get(ShareClass, share_class_id)
            if share_class is None:
                raise InvariantError(f"share class {share_class_id} of a transaction does not exist")
            self._share_classes[share_class_id] = share_class
        return self._share_classes[share_class_id]

    def load_navs(self, entries: Sequence[_Entry]) -> None:
        """The NAVs the page's withdrawals were created under, in one bounded range read per share class."""
        days_by_class: dict[str, list[date]] = {}
        for entry in entries:
            if entry.source == "withdrawal":
                days_by_class.setdefault(entry.row.share_class_id, []).append(entry.row.created_day)
        for share_class_id, days in days_by_class.items():
            rows = list(
                self.session.scalars(
                    select(NetAssetValue)
                    .where(
                        NetAssetValue.share_class_id == share_class_id,
                        NetAssetValue.day >= min(days) - timedelta(days=_NAV_LOOKBACK_DAYS),
                        NetAssetValue.day <= max(days),
                    )
                    .order_by(NetAssetValue.day)
                )
            )
            if not rows or rows[0].day > min(days):
                earlier = self.session.scalar(
                    select(NetAssetValue)
                    .where(NetAssetValue.share_class_id == share_class_id, NetAssetValue.day <= min(days))
                    .order_by(NetAssetValue.day.desc())
                    .limit(1)
                )
                if earlier is not None and (not rows or earlier.day < rows[0].day):
                    rows.insert(0, earlier)
            self._navs[share_class_id] = ([row.day for row in rows], rows)

    def nav_at(self, share_class_id: str, day: date) -> NetAssetValue | None:
        """The NAV in force on ``day`` (the last published on or before it)."""
        days, rows = self._navs.get(share_class_id, ([], []))
        index = bisect.bisect_right(days, day) - 1
        return rows[index] if index >= 0 else None

    def load_orders(self, entries: Sequence[_Entry]) -> dict[str, DepositOrder | WithdrawalOrder]:
        """The orders of the page's correction entries, one read per kind."""
        found: dict[str, DepositOrder | WithdrawalOrder] = {}
        deposit_ids = {e.row.order_id for e in entries if e.source == "deposit_correction"}
        if deposit_ids:
            found.update(
                (row.id, row)
                for row in self.session.scalars(select(DepositOrder).where(DepositOrder.id.in_(deposit_ids)))
            )
        withdrawal_ids = {e.row.order_id for e in entries if e.source == "withdrawal_correction"}
        if withdrawal_ids:
            found.update(
                (row.id, row)
                for row in self.session.scalars(
                    select(WithdrawalOrder).where(WithdrawalOrder.id.in_(withdrawal_ids))
                )
            )
        return found

    def load(self, entries: Sequence[_Entry]) -> list[Transaction]:
        self.load_navs(entries)
        corrected = self.load_orders(entries)
        bank_ids = {e.row.bank_account_id for e in entries if e.source in ("deposit", "withdrawal")}
        bank_ids |= {order.bank_account_id for order in corrected.values()}
        bank_ids.discard(None)
        banks = (
            {
                bank.id: bank
                for bank in self.session.scalars(select(BankAccount).where(BankAccount.id.in_(bank_ids)))
            }
            if bank_ids
            else {}
        )
        investor_name = ""
        if any(e.source.startswith("transfer") for e in entries):
            investor_name = (
                self.session.scalar(select(Investor.name).where(Investor.id == self.account.investor_id))
                or ""
            )
        items = []
        for entry in entries:
            row = entry.row
            order = corrected.get(row.order_id) if entry.source in _CORRECTION_KINDS else None
            if entry.source in _CORRECTION_KINDS and order is None:
                raise InvariantError(f"the order {row.order_id} of correction entry {row.id} does not exist")
            bank_id = row.bank_account_id if entry.source in ("deposit", "withdrawal") else None
            if order is not None:
                bank_id = order.bank_account_id
            nav = self.nav_at(row.share_class_id, row.created_day) if entry.source == "withdrawal" else None
            items.append(
                Transaction(
                    source=entry.source,
                    row=row,
                    account_id=self.account.id,
                    share_class=self.share_class(row.share_class_id),
                    bank_account=banks.get(bank_id) if bank_id else None,
                    nav_at_creation=nav.value if nav is not None else None,
                    investor_name=investor_name,
                    order=order,
                )
            )
        return items
