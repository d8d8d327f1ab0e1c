"""The investor app's dashboard: today's value, yield to date and the charts' daily series.

Every figure comes from the stored daily positions (``reporting.history``): a read costs a few
index lookups per account and share class, and the chart's days, whatever the number of
transactions behind them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from spiko.db.models.funds import ShareClass
from spiko.domain.money import exact_sum
from spiko.domain.positions import DailyPosition
from spiko.errors import HttpApiDecodeError
from spiko.services import clock
from spiko.services.reporting import history

# The chart periods the dashboard offers, in days back from today.
PERIODS = {"1m": 31, "3m": 92, "1y": 366, "2y": 731}
DEFAULT_PERIOD = "3m"


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


def _position_on(
    session: Session, investor_id: str, share_class: ShareClass, day: date
) -> DailyPosition | None:
    found = history.investor_history(session, investor_id, share_class.id, day, day)
    return found.positions[0] if found.positions else None


def overview(
    session: Session, investor_id: str, *, currency: str | None = None, max_rate_age_days: int | None = None
) -> Overview:
    """Today's value per account (in one currency, as ``GET /v1/portfolio/totals``), the holdings
    per account and share class (``GET /v1/portfolio``), and the yield month and year to date."""
    today = clock.today(session)
    rate_problem = None
    try:
        totals = history.portfolio_totals(session, investor_id, currency, max_rate_age_days=max_rate_age_days)
    except HttpApiDecodeError as refused:
        totals, rate_problem = [], str(refused)
    holdings = history.holdings(session, investor_id)
    chosen = totals[0].currency if totals else (currency or "EUR")
    classes: dict[str, ShareClass] = {}
    for holding in holdings:
        classes.setdefault(holding.share_class.id, holding.share_class)
    month_end = today.replace(day=1) - timedelta(days=1)
    year_end = today.replace(month=1, day=1) - timedelta(days=1)
    summaries = []
    for share_class in sorted(classes.values(), key=lambda sc: sc.symbol):
        now = [h.position for h in holdings if h.share_class.id == share_class.id]
        yield_now = exact_sum(p.yield_total for p in now)
        month = _position_on(session, investor_id, share_class, month_end)
        year = _position_on(session, investor_id, share_class, year_end)
        summaries.append(
            ShareClassSummary(
                share_class,
                holdings=exact_sum(p.holdings for p in now),
                shares=exact_sum(p.shares for p in now),
                yield_month=yield_now - (month.yield_total if month else Decimal(0)),
                yield_year=yield_now - (year.yield_total if year else Decimal(0)),
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


def series(
    session: Session,
    investor_id: str,
    share_class: ShareClass,
    first: date,
    last: date,
    *,
    max_points: int = 92,
) -> list[SeriesPoint]:
    """The investor's daily holdings and yield of one share class over the period (all accounts),
    grouped into at most ``max_points`` consecutive spans: holdings at each span's end, yield summed
    over it (the difference of the cumulative yields, so no day is lost or counted twice)."""
    opening = first - timedelta(days=1)
    positions = history.investor_history(session, investor_id, share_class.id, opening, last).positions
    if len(positions) < 2:
        return []
    days = positions[1:]
    step = -(-len(days) // max_points)
    points = []
    previous = positions[0]
    for index in range(0, len(days), step):
        span = days[index : index + step]
        end = span[-1]
        points.append(SeriesPoint(span[0].day, end.day, end.holdings, end.yield_total - previous.yield_total))
        previous = end
    return points
