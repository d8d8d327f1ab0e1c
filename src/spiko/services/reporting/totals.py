"""Totals of a share class at the close of NAV days, from the share ledger, summed exactly."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from spiko.db.models.funds import NetAssetValue, ShareClass
from spiko.db.models.ledger import ShareMovement
from spiko.domain.money import exact_sum, value_of
from spiko.services import sums


@dataclass(frozen=True)
class ShareClassTotals:
    """``total_assets`` is ``total_shares × NAV`` rounded down (the value of a holding);
    ``total_orders`` the cash subscribed minus the cash redeemed since launch; ``total_yield``
    their difference; ``holders`` the investors holding a positive number of shares."""

    nav: NetAssetValue
    total_shares: Decimal
    total_assets: Decimal
    total_orders: Decimal
    holders: int

    @property
    def total_yield(self) -> Decimal:
        return self.total_assets - self.total_orders


def share_class_totals(
    session: Session, share_class: ShareClass, navs: Sequence[NetAssetValue]
) -> list[ShareClassTotals]:
    """The totals at the close of each given NAV's day (``navs`` oldest first)."""
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
    results = []
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
        results.append(
            ShareClassTotals(
                nav=nav,
                total_shares=total_shares,
                total_assets=value_of(max(total_shares, Decimal(0)), nav.value, share_class.currency),
                total_orders=total_orders,
                holders=sum(1 for held in holdings.values() if held > 0),
            )
        )
    return results
