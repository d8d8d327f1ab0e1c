"""What ``spiko register reconcile`` prints: one object per share class."""

from __future__ import annotations

from typing import TypedDict

from spiko.presenters.formats import amount_text, shares_text
from spiko.services.reconcile import ShareClassReconciliation


class ReconciliationBody(TypedDict):
    day: str
    shareClass: str
    fund: str
    balanced: bool
    holdersShares: str
    sharesInIssue: str
    holders: int
    transferredIn: str
    transferredOut: str
    transferOrdersShares: str
    currency: str
    cashIn: str
    cashOut: str
    ordersCash: str
    positionsChecked: int
    differences: list[str]


def reconciliation(result: ShareClassReconciliation) -> ReconciliationBody:
    share_class = result.share_class
    decimals, currency = share_class.share_decimals, share_class.currency
    return {
        "day": result.day.isoformat(),
        "shareClass": share_class.symbol,
        "fund": share_class.fund.slug,
        "balanced": result.balanced,
        "holdersShares": shares_text(result.holders_shares, decimals),
        "sharesInIssue": shares_text(result.shares_in_issue, decimals),
        "holders": result.holders,
        "transferredIn": shares_text(result.transferred_in, decimals),
        "transferredOut": shares_text(result.transferred_out, decimals),
        "transferOrdersShares": shares_text(result.transfer_orders_shares, decimals),
        "currency": currency,
        "cashIn": amount_text(result.cash_in, currency),
        "cashOut": amount_text(result.cash_out, currency),
        "ordersCash": amount_text(result.orders_cash, currency),
        "positionsChecked": result.positions_checked,
        "differences": result.differences,
    }
