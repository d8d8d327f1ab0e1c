"""The investor app's dashboard: today's value, yield to date and the charts' daily series.

Every figure comes from the stored daily positions (``reporting.positions``), the ones
``GET /v1/portfolio``, ``/v1/portfolio/totals`` and the yield history read: a dashboard costs a
few index lookups per account and share class, plus the chart's days, whatever the number of
transactions behind them. The (account, share class) pairs are looked up once per dashboard.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select, true
from sqlalchemy.orm import Session

from spiko.context import AppContext
from spiko.db.models.funds import ShareClass
from spiko.db.models.ledger import ShareMovement
from spiko.db.models.orders import Account
from spiko.db.models.reporting import DailyPosition as DailyPositionRow
from spiko.domain.money import exact_sum
from spiko.errors import HttpApiDecodeError
from spiko.services import clock
from spiko.services.reporting import history
from spiko.services.reporting import positions as store

# The chart periods the dashboard offers, in days back from today.
PERIODS = {"1m": 31, "3m": 92, "1y": 366, "2y": 731}
DEFAULT_PERIOD = "3m"

Pair = tuple[Account, ShareClass]


def held_pairs(session: Session, investor_id: str) -> list[Pair]:
    """Every (account, share class) of the investor with at least one movement, in one query: an
    index probe per pair (``positions.investor_accounts_holding`` asks the same, pair by pair)."""
    moved = (
        select(ShareMovement.id)
        .where(ShareMovement.account_id == Account.id, ShareMovement.share_class_id == ShareClass.id)
        .exists()
    )
    rows = session.execute(
        select(Account, ShareClass)
        .join(ShareClass, true())
        .where(Account.investor_id == investor_id, moved)
        .order_by(Account.created_at, Account.id, ShareClass.symbol)
    )
    return [(account, share_class) for account, share_class in rows]


def refresh(ctx: AppContext, investor_id: str) -> list[Pair]:
    """Bring the investor's stored positions up to date (``positions.refresh``); the pairs."""
    with ctx.transaction(write=False) as session:
        pairs = held_pairs(session, investor_id)
    store.refresh(ctx, [(account.id, share_class) for account, share_class in pairs])
    return pairs


@dataclass(frozen=True)
class ShareClassSummary:
    """One share class the investor holds (or held): value today, yield this month and year."""

    share_class: ShareClass
    holdings: Decimal
    shares: Decimal
    yield_month: Decimal
    yield_year: Decimal
    yield_total: Decimal


@dataclass(frozen=True)
class Overview:
    day: date
    currency: str
    total: Decimal | None  # None when an exchange rate is missing or stale (``rate_problem`` says which)
    totals: list[history.AccountTotal]
    holdings: list[history.Holding]
    share_classes: list[ShareClassSummary]
    rate_problem: str | None = None


def values_on_days(
    session: Session, pairs: Sequence[Pair], share_class: ShareClass, days: Sequence[date]
) -> dict[date, tuple[Decimal, Decimal]]:
    """(holdings, cumulative yield) of these accounts together at the end of each of ``days``.

    The stored positions of every account and day are read in one query of three columns (the
    cost is the number of days asked for, never the length of the ledger); a day not stored
    (before an account's first movement: nothing held; after the latest NAV) comes from
    ``positions.account_positions``, as every reader of positions has it.
    """
    accounts = [account.id for account, sc in pairs if sc.id == share_class.id]
    wanted = sorted(set(days))
    found: dict[tuple[str, date], tuple[Decimal, Decimal]] = {}
    if accounts and wanted:
        rows = session.execute(
            select(
                DailyPositionRow.account_id,
                DailyPositionRow.day,
                DailyPositionRow.holdings,
                DailyPositionRow.yield_total,
            ).where(
                DailyPositionRow.share_class_id == share_class.id,
                DailyPositionRow.account_id.in_(accounts),
                DailyPositionRow.day.in_(wanted),
            )
        )
        found = {(account_id, day): (holdings, earned) for account_id, day, holdings, earned in rows}
    for account_id in accounts:
        missing = [day for day in wanted if (account_id, day) not in found]
        if not missing:
            continue
        opened = store.first_movement_day(session, account_id, share_class.id)
        before = [day for day in missing if opened is None or day < opened]
        for day in before:
            found[account_id, day] = (Decimal(0), Decimal(0))
        rest = [day for day in missing if opened is not None and day >= opened]
        if rest:
            rest_set = set(rest)
            for entry in store.account_positions(session, account_id, share_class, rest[0], rest[-1]):
                if entry.position.day in rest_set:
                    found[account_id, entry.position.day] = (
                        entry.position.holdings,
                        entry.position.yield_total,
                    )
    return {
        day: (
            exact_sum(found[account_id, day][0] for account_id in accounts),
            exact_sum(found[account_id, day][1] for account_id in accounts),
        )
        for day in wanted
    }


def overview(
    session: Session,
    investor_id: str,
    pairs: Sequence[Pair],
    *,
    currency: str | None = None,
    max_rate_age_days: int | None = None,
) -> Overview:
    """Today's value per account in one currency (as ``GET /v1/portfolio/totals``), the holdings
    per account and share class (``GET /v1/portfolio``), and the yield month and year to date."""
    today = clock.today(session)
    holdings = history.holdings(session, investor_id, [(account, sc.id) for account, sc in pairs])
    rate_problem = None
    try:
        totals = history.portfolio_totals(
            session, investor_id, currency, max_rate_age_days=max_rate_age_days, known_holdings=holdings
        )
    except HttpApiDecodeError as refused:
        totals, rate_problem = [], str(refused)
    chosen = totals[0].currency if totals else (currency or "EUR")
    month_end = today.replace(day=1) - timedelta(days=1)
    year_end = today.replace(month=1, day=1) - timedelta(days=1)
    summaries = []
    for share_class in sorted({sc.id: sc for _, sc in pairs}.values(), key=lambda sc: sc.symbol):
        now = [h.position for h in holdings if h.share_class.id == share_class.id]
        ends = values_on_days(session, pairs, share_class, [month_end, year_end])
        yield_now = exact_sum(p.yield_total for p in now)
        summaries.append(
            ShareClassSummary(
                share_class,
                holdings=exact_sum(p.holdings for p in now),
                shares=exact_sum(p.shares for p in now),
                yield_month=yield_now - ends[month_end][1],
                yield_year=yield_now - ends[year_end][1],
                yield_total=yield_now,
            )
        )
    total = None if rate_problem else exact_sum(t.total for t in totals)
    return Overview(today, chosen, total, totals, holdings, summaries, rate_problem)


@dataclass(frozen=True)
class SeriesPoint:
    """One point of a chart: the holdings at the end of ``day`` and the yield earned over the
    days since the previous point (``first`` to ``day``)."""

    first: date
    day: date
    holdings: Decimal
    yield_: Decimal


def period_bounds(today: date, period: str) -> tuple[date, date]:
    days = PERIODS.get(period, PERIODS[DEFAULT_PERIOD])
    return today - timedelta(days=days - 1), today


def sampled_days(first: date, last: date, max_points: int) -> list[date]:
    """The chart's days: at most ``max_points`` span ends from ``first`` to ``last`` (the last day
    always among them), and the day before ``first`` (where the first span's yield starts)."""
    count = (last - first).days + 1
    step = -(-count // max_points)
    ends = [last - timedelta(days=back) for back in range(0, count, step)]
    return [first - timedelta(days=1), *sorted(ends)]


def series(
    session: Session,
    pairs: Sequence[Pair],
    share_class: ShareClass,
    first: date,
    last: date,
    *,
    max_points: int = 92,
) -> list[SeriesPoint]:
    """The holdings and yield of one share class over the period, summed over the accounts, as at
    most ``max_points`` consecutive spans: holdings at each span's end, yield over the span (the
    difference of the cumulative yields, so no day is lost or counted twice)."""
    days = sampled_days(first, last, max_points)
    values = values_on_days(session, pairs, share_class, days)
    return [
        SeriesPoint(previous + timedelta(days=1), day, values[day][0], values[day][1] - values[previous][1])
        for previous, day in zip(days, days[1:], strict=False)
    ]
