"""Figures of the public API computed from the ledger and the NAVs: totals, yields, index values."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from spiko.db.models.funds import NetAssetValue, ShareClass
from spiko.db.models.ledger import ShareMovement
from spiko.domain import calendar
from spiko.domain import nav as nav_rules
from spiko.domain.money import exact_sum, value_of
from spiko.errors import NotFoundError
from spiko.services import reference, sums

INDEX_BASE = Decimal(100)
WEEK_DAYS = 7
MONTH_DAYS = 30


def latest_nav(session: Session, share_class: ShareClass) -> NetAssetValue:
    latest = reference.latest_nav(session, share_class.id)
    if latest is None:
        raise NotFoundError(f"No NAV has been published for {share_class.symbol} yet")
    return latest


@dataclass(frozen=True)
class ShareClassTotal:
    """Totals of a share class at the close of one NAV's day."""

    nav: NetAssetValue
    total_shares: Decimal
    total_assets: Decimal
    number_of_holders: int
    total_orders: Decimal

    @property
    def total_yield(self) -> Decimal:
        return self.total_assets - self.total_orders


def totals(session: Session, share_class: ShareClass, navs: list[NetAssetValue]) -> list[ShareClassTotal]:
    """Totals of the share class at the close of each given NAV's day, from the share ledger,
    summed exactly (``services.sums``: never a SQL aggregate over decimal text).

    totalShares: shares held by all accounts; totalAssets: the value of totalShares (× NAV rounded
    down to the currency's minor unit, ``money.value_of``); numberOfHolders: investors holding a
    positive number of shares; totalOrders: cash subscribed minus cash redeemed since launch;
    totalYield: totalAssets − totalOrders, the gain of the share class's holders since launch.
    """
    if not navs:
        return []
    groups = sums.grouped_sums(
        session,
        [ShareMovement.day, ShareMovement.investor_id, ShareMovement.kind],
        [ShareMovement.shares, ShareMovement.amount],
        ShareMovement.share_class_id == share_class.id,
        ShareMovement.day <= navs[-1].day,
    )
    holdings: dict[str, Decimal] = defaultdict(Decimal)
    total_shares = Decimal(0)
    total_orders = Decimal(0)
    results: list[ShareClassTotal] = []
    index = 0
    for nav in navs:
        while index < len(groups) and groups[index][0][0] <= nav.day:
            (_, investor_id, kind), (shares, cash) = groups[index]
            holdings[investor_id] = exact_sum((holdings[investor_id], shares))
            total_shares = exact_sum((total_shares, shares))
            if kind == "subscription":
                total_orders = exact_sum((total_orders, cash))
            elif kind == "redemption":
                total_orders = exact_sum((total_orders, -cash))
            index += 1
        assets = value_of(max(total_shares, Decimal(0)), nav.value, share_class.currency)
        holders = sum(1 for held in holdings.values() if held > 0)
        results.append(ShareClassTotal(nav, total_shares, assets, holders, total_orders))
    return results


@dataclass(frozen=True)
class ShareClassYield:
    """Annualized simple yields of the latest NAV over earlier ones (None: the history is shorter)."""

    latest: NetAssetValue
    previous: NetAssetValue | None
    daily: Decimal | None
    weekly: Decimal | None
    monthly: Decimal | None
    next_yield_at: datetime


def _annualized(start: NetAssetValue, end: NetAssetValue) -> Decimal:
    return nav_rules.annualized_return(start.value, end.value, (end.day - start.day).days)


def share_class_yield(session: Session, share_class: ShareClass) -> ShareClassYield:
    latest = latest_nav(session, share_class)
    previous = reference.latest_nav(session, share_class.id, latest.day - timedelta(days=1))

    def over(days: int) -> Decimal | None:
        base = reference.latest_nav(session, share_class.id, latest.day - timedelta(days=days))
        return _annualized(base, latest) if base is not None else None

    holidays = reference.holidays(session, share_class.fund_id)
    next_day = calendar.next_business_day(latest.day, holidays)
    return ShareClassYield(
        latest=latest,
        previous=previous,
        daily=_annualized(previous, latest) if previous is not None else None,
        weekly=over(WEEK_DAYS),
        monthly=over(MONTH_DAYS),
        next_yield_at=datetime.combine(next_day, time(0, 0), tzinfo=UTC),
    )


def index_values(session: Session, share_class: ShareClass, start: date) -> list[tuple[date, Decimal]]:
    """The share class's total-return index from ``start``: its NAV rebased to 100 at its first NAV."""
    first = session.scalar(
        select(NetAssetValue)
        .where(NetAssetValue.share_class_id == share_class.id)
        .order_by(NetAssetValue.day)
        .limit(1)
    )
    if first is None:
        return []
    return [
        (nav.day, INDEX_BASE * nav.value / first.value)
        for nav in reference.navs_between(session, share_class.id, start)
    ]
