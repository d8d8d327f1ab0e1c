"""Accounting positions (reference tag "Accounting positions"): daily positions of an account or investor."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TypedDict

from spiko.db.models.funds import ShareClass
from spiko.domain.positions import DailyPosition, PositionStatus
from spiko.presenters.formats import Money, day_start_epoch, money, share_units


class FlowBody(TypedDict):
    ofDay: Money
    total: Money


# The functional form: "yield" is a Python keyword.
PositionBody = TypedDict(
    "PositionBody",
    {
        "day": str,
        "status": str,
        "sharesHoldings": str,
        "holdings": Money,
        "subscriptions": FlowBody,
        "redemptions": FlowBody,
        "transfers": FlowBody,
        "yield": FlowBody,
        "realizedGain": FlowBody,
        "transferredGain": FlowBody,
        "totalUnrealizedGain": Money,
    },
)


class InvestorPositionBody(PositionBody):
    investorId: str
    shareClassId: str
    accountIds: list[str]


class AccountPositionBody(PositionBody):
    id: str
    investorId: str
    shareClassId: str
    accountId: str
    navId: str | None
    timestampGte: str
    timestampLt: str


def _flow(of_day: Decimal, total: Decimal, currency: str) -> FlowBody:
    return {"ofDay": money(of_day, currency), "total": money(total, currency)}


def position(share_class: ShareClass, daily: DailyPosition) -> PositionBody:
    currency = share_class.currency
    return {
        "day": daily.day.isoformat(),
        "status": daily.status.value,
        "sharesHoldings": share_units(daily.shares, share_class.share_decimals),
        "holdings": money(daily.holdings, currency),
        "subscriptions": _flow(daily.subscriptions, daily.subscriptions_total, currency),
        "redemptions": _flow(daily.redemptions, daily.redemptions_total, currency),
        "transfers": _flow(daily.transfers, daily.transfers_total, currency),
        "yield": _flow(daily.yield_, daily.yield_total, currency),
        "realizedGain": _flow(daily.realized_gain, daily.realized_gain_total, currency),
        "transferredGain": _flow(daily.transferred_gain, daily.transferred_gain_total, currency),
        "totalUnrealizedGain": money(daily.unrealized_gain, currency),
    }


def investor_position(
    investor_id: str, share_class: ShareClass, account_ids: list[str], daily: DailyPosition
) -> InvestorPositionBody:
    return {
        "investorId": investor_id,
        "shareClassId": share_class.id,
        "accountIds": account_ids,
        **position(share_class, daily),
    }


def account_position(
    investor_id: str, share_class: ShareClass, position_id: str, account_id: str, daily: DailyPosition
) -> AccountPositionBody:
    nav_id = daily.nav.nav_id if daily.nav is not None and daily.status is PositionStatus.NAV else None
    return {
        "id": position_id,
        "investorId": investor_id,
        "shareClassId": share_class.id,
        "accountId": account_id,
        "navId": nav_id,
        "timestampGte": day_start_epoch(daily.day),
        "timestampLt": day_start_epoch(daily.day + timedelta(days=1)),
        **position(share_class, daily),
    }
