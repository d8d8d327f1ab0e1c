"""Daily positions of an account in a share class: materialized, read, and summed per investor.

Materialization. ``daily_positions`` stores the end-of-day position of every calendar day from
an account's first movement in a share class to the last day with a published NAV of that
share class. Readers call :func:`refresh` (its own write transaction) before reading; it stores
the missing days, if any, by carrying the last stored day forward over the ledger, so a read
costs an index range over at most the days asked for, whatever the length of the ledger.
:func:`materialize` does the same inside a caller's transaction (for the execution or sandbox
code). Database triggers delete the stored days a new, changed or deleted movement or NAV
affects; the next read refills them. Days after the latest NAV are computed on the fly and never
stored, because their NAV may still come.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import String, bindparam, func, insert, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from spiko.context import AppContext
from spiko.db.models.funds import NetAssetValue, ShareClass
from spiko.db.models.ledger import ShareMovement
from spiko.db.models.orders import Account
from spiko.db.models.reporting import DailyPosition as DailyPositionRow
from spiko.domain.money import minor_units
from spiko.domain.positions import (
    ADDITIVE_FIELDS,
    DailyPosition,
    Movement,
    MovementKind,
    Nav,
    PositionState,
    PositionStatus,
    combine,
    days_between,
    roll_positions,
)
from spiko.errors import NotFoundError

_ID_NAMESPACE = uuid.UUID("6f1c2a0e-3b7d-4f4e-9a51-2d8c0b9e7a11")
_ID_NAMESPACE_BYTES = _ID_NAMESPACE.bytes
ONE_DAY = timedelta(days=1)
# The widest period one request may ask for (ten years of days).
MAX_DAYS = 3660


def position_id(account_id: str, share_class_id: str, day: date) -> str:
    """A name-based id (``uuid5``): the same position keeps its id when it is recomputed.

    Computed as :func:`uuid.uuid5` does, without its objects: a close computes one per account.
    """
    digest = bytearray(
        hashlib.sha1(  # noqa: S324 - the UUID v5 construction, not a security use
            _ID_NAMESPACE_BYTES + f"{account_id}/{share_class_id}/{day.isoformat()}".encode()
        ).digest()[:16]
    )
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def accrual_time(day: date) -> datetime:
    """A day's yield accrual is listed at the midnight that ends the day (UTC)."""
    return day_start(day + ONE_DAY)


def is_accrual(previous_shares: Decimal, position: DailyPosition) -> bool:
    """A day's yield is listed (transactions, yield history) when shares earned it or it is not zero."""
    if position.nav is None:
        return False
    return (position.status is PositionStatus.NAV and previous_shares > 0) or position.yield_ != 0


@dataclass(frozen=True)
class AccountPosition:
    """One day of one account's position, with what the listing and yield history need."""

    account_id: str
    share_class_id: str
    position: DailyPosition
    previous_shares: Decimal

    @property
    def id(self) -> str:
        return position_id(self.account_id, self.share_class_id, self.position.day)

    @property
    def accrues(self) -> bool:
        return is_accrual(self.previous_shares, self.position)


# --- reading the ledger and the NAVs ---------------------------------------------------------


def _movements(
    session: Session, account_id: str, share_class_id: str, first: date, last: date
) -> dict[date, list[Movement]]:
    rows = session.execute(
        select(
            ShareMovement.day,
            ShareMovement.kind,
            ShareMovement.shares,
            ShareMovement.amount,
            ShareMovement.cost,
        )
        .where(
            ShareMovement.account_id == account_id,
            ShareMovement.share_class_id == share_class_id,
            ShareMovement.day >= first,
            ShareMovement.day <= last,
        )
        .order_by(ShareMovement.day, ShareMovement.executed_at, ShareMovement.id)
    )
    grouped: dict[date, list[Movement]] = defaultdict(list)
    for day, kind, shares, amount, cost in rows:
        grouped[day].append(Movement(day, MovementKind(kind), shares, amount, cost))
    return grouped


def _navs(session: Session, share_class_id: str, first: date, last: date) -> dict[date, Nav]:
    rows = session.execute(
        select(NetAssetValue.id, NetAssetValue.day, NetAssetValue.value).where(
            NetAssetValue.share_class_id == share_class_id,
            NetAssetValue.day >= first,
            NetAssetValue.day <= last,
        )
    )
    return {day: Nav(day, value, nav_id) for nav_id, day, value in rows}


def nav_before(session: Session, share_class_id: str, day: date) -> Nav | None:
    """The last NAV published for a day before ``day`` (what carries over into it)."""
    row = session.execute(
        select(NetAssetValue.id, NetAssetValue.day, NetAssetValue.value)
        .where(NetAssetValue.share_class_id == share_class_id, NetAssetValue.day < day)
        .order_by(NetAssetValue.day.desc())
        .limit(1)
    ).first()
    return Nav(row.day, row.value, row.id) if row else None


def latest_nav_day(session: Session, share_class_id: str) -> date | None:
    return session.scalar(
        select(func.max(NetAssetValue.day)).where(NetAssetValue.share_class_id == share_class_id)
    )


def first_movement_day(session: Session, account_id: str, share_class_id: str) -> date | None:
    # ORDER BY ... LIMIT 1 rather than MIN(): both databases then read one entry of the
    # (account, share class, day) index, whatever the planner's statistics.
    return session.scalar(
        select(ShareMovement.day)
        .where(ShareMovement.account_id == account_id, ShareMovement.share_class_id == share_class_id)
        .order_by(ShareMovement.day)
        .limit(1)
    )


def last_movement_day(session: Session, account_id: str, share_class_id: str) -> date | None:
    return session.scalar(
        select(ShareMovement.day)
        .where(ShareMovement.account_id == account_id, ShareMovement.share_class_id == share_class_id)
        .order_by(ShareMovement.day.desc())
        .limit(1)
    )


def has_movements(session: Session, account_id: str, share_class_id: str) -> bool:
    return (
        session.scalar(
            select(ShareMovement.id)
            .where(ShareMovement.account_id == account_id, ShareMovement.share_class_id == share_class_id)
            .order_by(ShareMovement.day)
            .limit(1)
        )
        is not None
    )


def _last_stored(session: Session, account_id: str, share_class_id: str, before: date | None = None) -> Any:
    query = select(*_POSITION_COLUMNS).where(
        DailyPositionRow.account_id == account_id, DailyPositionRow.share_class_id == share_class_id
    )
    if before is not None:
        query = query.where(DailyPositionRow.day < before)
    return session.execute(query.order_by(DailyPositionRow.day.desc()).limit(1)).first()


def _last_stored_day(session: Session, account_id: str, share_class_id: str) -> date | None:
    return session.scalar(
        select(DailyPositionRow.day)
        .where(DailyPositionRow.account_id == account_id, DailyPositionRow.share_class_id == share_class_id)
        .order_by(DailyPositionRow.day.desc())
        .limit(1)
    )


# The columns a position is rebuilt from, read as plain rows: a year of positions is 365 rows
# of 20 decimals, and skipping ORM identity bookkeeping for them halves the read's cost.
_POSITION_COLUMNS = [
    getattr(DailyPositionRow, name).label(name)
    for name in ("day", "status", "nav_id", "nav_day", "nav", *ADDITIVE_FIELDS)
]


def _to_domain(row: Any) -> DailyPosition:
    nav = Nav(row.nav_day, row.nav, row.nav_id) if row.nav is not None and row.nav_day is not None else None
    return DailyPosition(
        day=row.day,
        status=PositionStatus(row.status),
        nav=nav,
        **{name: getattr(row, name) for name in ADDITIVE_FIELDS},
    )


def _row_values(
    investor_id: str, account_id: str, share_class_id: str, position: DailyPosition, previous_shares: Decimal
) -> dict[str, object]:
    nav = position.nav
    return {
        "id": position_id(account_id, share_class_id, position.day),
        "investor_id": investor_id,
        "account_id": account_id,
        "share_class_id": share_class_id,
        "day": position.day,
        "status": position.status.value,
        "nav_id": nav.nav_id if nav else None,
        "nav_day": nav.day if nav else None,
        "nav": nav.value if nav else None,
        **{name: getattr(position, name) for name in ADDITIVE_FIELDS},
        "accrual_at": accrual_time(position.day) if is_accrual(previous_shares, position) else None,
    }


# --- materialization -------------------------------------------------------------------------


def needs_refresh(session: Session, account_id: str, share_class_id: str) -> bool:
    horizon = latest_nav_day(session, share_class_id)
    if horizon is None:
        return False
    stored = _last_stored_day(session, account_id, share_class_id)
    if stored is not None and stored >= horizon:
        return False
    first = first_movement_day(session, account_id, share_class_id) if stored is None else stored
    return first is not None and first <= horizon


def _lock(session: Session, account_id: str, share_class_id: str) -> None:
    """On PostgreSQL, the advisory locks the invalidation triggers take (NAV lock first, as they do)."""
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite serializes write transactions (BEGIN IMMEDIATE).
    session.execute(
        select(func.pg_advisory_xact_lock_shared(func.hashtextextended("nav/" + share_class_id, 0)))
    )
    session.execute(
        select(func.pg_advisory_xact_lock(func.hashtextextended(f"{account_id}/{share_class_id}", 0)))
    )


def materialize(
    session: Session, account_id: str, share_class: ShareClass, *, through: date | None = None
) -> int:
    """Store the missing days up to the latest NAV (or ``through``) inside the caller's write
    transaction; returns how many days were stored."""
    _lock(session, account_id, share_class.id)
    horizon = through or latest_nav_day(session, share_class.id)
    if horizon is None:
        return 0
    last = _last_stored(session, account_id, share_class.id)
    if last is not None:
        if last.day >= horizon:
            return 0
        start = last.day + ONE_DAY
        state = _to_domain(last).state()
    else:
        first = first_movement_day(session, account_id, share_class.id)
        if first is None or first > horizon:
            return 0
        start = first
        state = PositionState.empty_before(first)
        state = PositionState(day=state.day, nav=nav_before(session, share_class.id, first))
    investor_id = session.scalar(select(Account.investor_id).where(Account.id == account_id))
    if investor_id is None:
        raise NotFoundError("Account not found")
    days = days_between(start, horizon)
    positions = roll_positions(
        state,
        days,
        _movements(session, account_id, share_class.id, start, horizon),
        _navs(session, share_class.id, start, horizon),
        minor_units(share_class.currency),
    )
    rows = []
    previous_shares = state.shares
    for position in positions:
        rows.append(_row_values(investor_id, account_id, share_class.id, position, previous_shares))
        previous_shares = position.shares
    for chunk_start in range(0, len(rows), 500):
        session.execute(insert(DailyPositionRow), rows[chunk_start : chunk_start + 500])
    return len(rows)


_COPY_COLUMNS: list[str] = []


def _insert_positions(session: Session, rows: list[dict[str, object]]) -> int:
    """Insert stored positions: by COPY on PostgreSQL (a close writes one row per account), by
    executemany on SQLite."""
    if session.get_bind().dialect.name != "postgresql":
        # On the connection: a Core executemany, without the ORM's per-row bulk bookkeeping
        # (parameters named as the rows' keys, the mapped attributes: ``yield_`` is "yield").
        mapped = DailyPositionRow.__mapper__.columns
        statement = insert(DailyPositionRow).values({mapped[name]: bindparam(name) for name in rows[0]})
        session.connection().execute(statement, rows)
        return len(rows)
    if not _COPY_COLUMNS:
        _COPY_COLUMNS.extend(rows[0])
    table_columns = DailyPositionRow.__mapper__.columns
    columns = ", ".join(f'"{table_columns[name].name}"' for name in _COPY_COLUMNS)
    raw: Any = session.connection().connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(f"COPY daily_positions ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[name] for name in _COPY_COLUMNS])
    return len(rows)


def book_day(session: Session, share_class: ShareClass, day: date, previous_close: date | None) -> int:
    """Store the positions of every account of the share class for each day after
    ``previous_close`` up to ``day`` (the daily close); returns how many rows it stored.

    Set-based: the states at the previous close come from one index range of the stored days, the
    window's movements and NAVs from one query each, and the rows go in by batches; an account
    without a stored state at the previous close but with older movements (stored before closes
    existed) is materialized on its own.
    """
    start = previous_close + ONE_DAY if previous_close is not None else None
    # Days of the window someone stored already (a read before closes, a NAV since) go first.
    stale = session.query(DailyPositionRow).filter(
        DailyPositionRow.share_class_id == share_class.id, DailyPositionRow.day > (previous_close or date.min)
    )
    stale.delete(synchronize_session=False)
    moved, investors = _window_movements(session, share_class.id, start, day)
    carried: list[str] = []  # accounts whose days PostgreSQL carries forward by itself
    states: dict[str, tuple[str, PositionState]] = {}
    if previous_close is not None:
        query = select(DailyPositionRow.investor_id, DailyPositionRow.account_id, *_POSITION_COLUMNS).where(
            DailyPositionRow.day == previous_close, DailyPositionRow.share_class_id == share_class.id
        )
        if session.get_bind().dialect.name == "postgresql":
            held = session.scalars(
                select(DailyPositionRow.account_id).where(
                    DailyPositionRow.day == previous_close, DailyPositionRow.share_class_id == share_class.id
                )
            ).all()
            carried = [account_id for account_id in held if account_id not in moved]
            movers = [account_id for account_id in held if account_id in moved]
            # One join on the movers' array, not chunks of IN lists: without fresh statistics
            # PostgreSQL scanned the whole day once per chunk (quadratic in the accounts).
            wanted = _account_array(movers)
            state_rows: Iterable[Any] = (
                session.execute(query.join(wanted, wanted.c.account_id == DailyPositionRow.account_id))
                if movers
                else []
            )
        else:
            state_rows = session.execute(query)
        for row in state_rows:
            states[row.account_id] = (row.investor_id, _to_domain(row).state())
    newcomers = [account_id for account_id in moved if account_id not in states]
    older: set[str] = set()
    if previous_close is not None and newcomers and session.get_bind().dialect.name == "postgresql":
        wanted = _account_array(newcomers)
        older.update(
            session.scalars(
                select(ShareMovement.account_id)
                .join(wanted, wanted.c.account_id == ShareMovement.account_id)
                .where(ShareMovement.share_class_id == share_class.id, ShareMovement.day <= previous_close)
                .distinct()
            )
        )
    elif previous_close is not None and newcomers:
        for chunk_start in range(0, len(newcomers), 500):
            chunk = newcomers[chunk_start : chunk_start + 500]
            older.update(
                session.scalars(
                    select(ShareMovement.account_id)
                    .where(
                        ShareMovement.share_class_id == share_class.id,
                        ShareMovement.account_id.in_(chunk),
                        ShareMovement.day <= previous_close,
                    )
                    .distinct()
                )
            )
    first_day = start if start is not None else min((min(days) for days in moved.values()), default=day)
    navs = _navs(session, share_class.id, first_day, day)
    navs_before: dict[date, Nav | None] = {}
    decimals = minor_units(share_class.currency)
    rows: list[dict[str, object]] = []
    stored = 0
    for account_id in list(states) + [a for a in newcomers if a not in older]:
        if account_id in states:
            investor_id, state = states[account_id]
        else:
            investor_id = investors[account_id]
            opened = min(moved[account_id])
            if opened not in navs_before:
                navs_before[opened] = nav_before(session, share_class.id, opened)
            state = PositionState(day=opened - ONE_DAY, nav=navs_before[opened])
        previous_shares = state.shares
        for position in roll_positions(
            state, days_between(state.day + ONE_DAY, day), moved.get(account_id, {}), navs, decimals
        ):
            rows.append(_row_values(investor_id, account_id, share_class.id, position, previous_shares))
            previous_shares = position.shares
        if len(rows) >= 5000:
            stored += _insert_positions(session, rows)
            rows = []
    if rows:
        stored += _insert_positions(session, rows)
    if carried and previous_close is not None:
        stored += _carry_in_sql(session, share_class, carried, previous_close, day, navs, decimals)
    for account_id in sorted(older):
        stored += materialize(session, account_id, share_class, through=day)
    return stored


def _account_array(accounts: Sequence[str]) -> Any:
    """A PostgreSQL table of account ids (``unnest`` of one array parameter) to join on."""
    return (
        func.unnest(bindparam(None, list(accounts), type_=postgresql.ARRAY(String)))
        .table_valued("account_id")
        .render_derived()
    )


def _window_movements(
    session: Session, share_class_id: str, start: date | None, day: date
) -> tuple[dict[str, dict[date, list[Movement]]], dict[str, str]]:
    """The share class's movements dated from ``start`` (or ever) to ``day``, by account and day."""
    query = select(
        ShareMovement.investor_id,
        ShareMovement.account_id,
        ShareMovement.day,
        ShareMovement.kind,
        ShareMovement.shares,
        ShareMovement.amount,
        ShareMovement.cost,
    ).where(ShareMovement.share_class_id == share_class_id, ShareMovement.day <= day)
    if start is not None:
        query = query.where(ShareMovement.day >= start)
    moved: dict[str, dict[date, list[Movement]]] = defaultdict(lambda: defaultdict(list))
    investors: dict[str, str] = {}
    for investor_id, account_id, moved_on, kind, shares, amount, cost in session.execute(
        query.order_by(ShareMovement.day, ShareMovement.executed_at, ShareMovement.id)
    ):
        moved[account_id][moved_on].append(Movement(moved_on, MovementKind(kind), shares, amount, cost))
        investors[account_id] = investor_id
    return moved, investors


# Carries each account's stored position of the previous day over one day without movements:
# the same shares, cost and totals; the holdings at the day's NAV rounded down to the minor unit
# (``domain.positions.holdings_value``), the day's yield their change. What ``roll_positions``
# computes for such a day, done by PostgreSQL for the accounts of a close that did not move.
# In account order: the inserts then walk the (account, ...) indexes and the accounts' key (the
# foreign-key checks) in order instead of at random, which keeps fewer of their pages dirty.
_CARRY_SQL = text(
    """
    INSERT INTO daily_positions (
        id, investor_id, account_id, share_class_id, day, status, nav_id, nav_day, nav,
        shares, holdings, cost_basis, subscriptions, redemptions, transfers, "yield",
        realized_gain, transferred_gain, subscriptions_total, redemptions_total, transfers_total,
        yield_total, realized_gain_total, transferred_gain_total, accrual_at
    )
    SELECT n.id, p.investor_id, p.account_id, p.share_class_id, CAST(:day AS date), :status,
        COALESCE(CAST(:nav_id AS varchar), p.nav_id), COALESCE(CAST(:nav_day AS date), p.nav_day),
        COALESCE(CAST(:nav AS numeric), p.nav),
        p.shares, h.holdings, p.cost_basis, 0, 0, 0, h.holdings - p.holdings, 0, 0,
        p.subscriptions_total, p.redemptions_total, p.transfers_total,
        p.yield_total + (h.holdings - p.holdings), p.realized_gain_total, p.transferred_gain_total,
        CASE WHEN (CAST(:published AS boolean) AND p.shares > 0) OR h.holdings <> p.holdings
             THEN CAST(:accrual_at AS timestamptz) END
    FROM daily_positions p
    JOIN unnest(CAST(:accounts AS varchar[]), CAST(:ids AS varchar[])) AS n(account_id, id)
        ON n.account_id = p.account_id
    CROSS JOIN LATERAL (
        SELECT CASE WHEN COALESCE(CAST(:nav AS numeric), p.nav) IS NULL THEN 0
            ELSE floor(p.shares * COALESCE(CAST(:nav AS numeric), p.nav) * CAST(:scale AS numeric))
                 / CAST(:scale AS numeric)
        END AS holdings
    ) h
    WHERE p.share_class_id = :share_class_id AND p.day = CAST(:previous AS date)
    ORDER BY p.account_id
    """
)


def _carry_in_sql(
    session: Session,
    share_class: ShareClass,
    accounts: Sequence[str],
    previous_close: date,
    day: date,
    navs: dict[date, Nav],
    decimals: int,
) -> int:
    stored = 0
    for current in days_between(previous_close + ONE_DAY, day):
        nav = navs.get(current)
        session.execute(
            _CARRY_SQL,
            {
                "day": current,
                "previous": current - ONE_DAY,
                "status": (PositionStatus.NAV if nav else PositionStatus.NO_NAV).value,
                "nav_id": nav.nav_id if nav else None,
                "nav_day": nav.day if nav else None,
                "nav": nav.value if nav else None,
                "published": nav is not None,
                "accrual_at": accrual_time(current),
                "scale": Decimal(10) ** decimals,
                "accounts": list(accounts),
                "ids": [position_id(account_id, share_class.id, current) for account_id in accounts],
                "share_class_id": share_class.id,
            },
        )
        stored += len(accounts)
    return stored


def refresh(ctx: AppContext, pairs: Iterable[tuple[str, ShareClass]]) -> int:
    """Bring the stored positions of these (account, share class) pairs up to the latest NAV.

    Checks with a read first, so a read of up-to-date positions never takes the write lock.
    """
    stored = 0
    pending = []
    with ctx.transaction(write=False) as session:
        for account_id, share_class in pairs:
            if needs_refresh(session, account_id, share_class.id):
                pending.append((account_id, share_class))
    for account_id, share_class in pending:
        with ctx.transaction(write=True) as session:
            stored += materialize(session, account_id, share_class)
    return stored


def invalidate(session: Session, account_id: str, share_class_id: str, from_day: date) -> None:
    """Forget stored days from ``from_day`` on (the triggers do this on every ledger or NAV change)."""
    session.query(DailyPositionRow).filter(
        DailyPositionRow.account_id == account_id,
        DailyPositionRow.share_class_id == share_class_id,
        DailyPositionRow.day >= from_day,
    ).delete(synchronize_session=False)


# --- reading positions -----------------------------------------------------------------------


def account_positions(
    session: Session, account_id: str, share_class: ShareClass, first: date, last: date
) -> list[AccountPosition]:
    """The position of every day from ``first`` to ``last``: stored days as stored, the others
    (before the first movement, after the latest NAV) computed from the nearest stored day."""
    if last < first:
        return []
    stored = {
        row.day: row
        for row in session.execute(
            select(*_POSITION_COLUMNS).where(
                DailyPositionRow.account_id == account_id,
                DailyPositionRow.share_class_id == share_class.id,
                DailyPositionRow.day >= first - ONE_DAY,
                DailyPositionRow.day <= last,
            )
        )
    }
    anchor = stored.get(first - ONE_DAY) or _last_stored(session, account_id, share_class.id, before=first)
    if anchor is not None:
        state = _to_domain(anchor).state()
    else:
        opened = first_movement_day(session, account_id, share_class.id)
        start = min(opened, first) if opened is not None else first
        state = PositionState(day=start - ONE_DAY, nav=nav_before(session, share_class.id, start))
    roll_start = state.day + ONE_DAY
    stored_days = sorted(day for day in stored if day >= first)
    if stored_days and stored_days[0] == roll_start and len(stored_days) == (last - roll_start).days + 1:
        movements: dict[date, list[Movement]] = {}
        navs: dict[date, Nav] = {}
    else:
        movements = _movements(session, account_id, share_class.id, roll_start, last)
        navs = _navs(session, share_class.id, roll_start, last)
    decimals = minor_units(share_class.currency)
    result: list[AccountPosition] = []
    previous_shares = state.shares
    for day in days_between(roll_start, last):
        row = stored.get(day)
        if row is not None:
            position = _to_domain(row)
        else:
            (position,) = roll_positions(state, [day], movements, navs, decimals)
        if day >= first:
            result.append(AccountPosition(account_id, share_class.id, position, previous_shares))
        state = position.state()
        previous_shares = position.shares
    return result


def investor_accounts_holding(
    session: Session, investor_id: str, share_class_id: str | None = None
) -> list[tuple[Account, str]]:
    """(account, share class id) pairs of the investor that have at least one movement."""
    accounts = session.scalars(
        select(Account).where(Account.investor_id == investor_id).order_by(Account.created_at, Account.id)
    ).all()
    if share_class_id is not None:
        share_class_ids = [share_class_id]
    else:
        share_class_ids = list(session.scalars(select(ShareClass.id).order_by(ShareClass.symbol)))
    return [
        (account, class_id)
        for account in accounts
        for class_id in share_class_ids
        if has_movements(session, account.id, class_id)
    ]


def combined_positions(per_account: Sequence[Sequence[AccountPosition]]) -> list[DailyPosition]:
    """Day-by-day sums of several accounts' positions (all over the same days)."""
    if not per_account:
        return []
    return [
        combine([series[index].position for series in per_account]) for index in range(len(per_account[0]))
    ]


def empty_positions(
    session: Session, share_class: ShareClass, first: date, last: date
) -> list[DailyPosition]:
    """Positions of nobody: zero everywhere, with the NAV status of each day."""
    state = PositionState(day=first - ONE_DAY, nav=nav_before(session, share_class.id, first))
    return roll_positions(
        state,
        days_between(first, last),
        {},
        _navs(session, share_class.id, first, last),
        minor_units(share_class.currency),
    )
