"""Portfolio (reference tag "Portfolio"): holdings per account and share class, and totals per account."""

from __future__ import annotations

from typing import TypedDict

from spiko.presenters.formats import Money, money, shares_text
from spiko.services.reporting.history import AccountTotal, Holding


class AccountRefBody(TypedDict):
    id: str


class EmptyBody(TypedDict):
    pass


class ShareClassRefBody(TypedDict):
    id: str
    name: str
    isin: str


class PortfolioItemBody(TypedDict):
    name: str
    account: AccountRefBody
    custodialAccount: EmptyBody
    shareClassAccount: EmptyBody
    shareClass: ShareClassRefBody
    totalNumberOfShares: str
    totalSharesAmount: Money
    totalGainSinceStart: Money


class PortfolioBody(TypedDict):
    investorId: str
    items: list[PortfolioItemBody]


class PortfolioTotalBody(TypedDict):
    accountId: str
    accountName: str
    totalBalance: Money
    breakdown: list[Money]


def portfolio_item(holding: Holding) -> PortfolioItemBody:
    share_class, position = holding.share_class, holding.position
    return {
        "name": holding.account.name or share_class.symbol,
        "account": {"id": holding.account.id},
        "custodialAccount": {},
        "shareClassAccount": {},
        "shareClass": {
            "id": share_class.id,
            "name": (share_class.data or {}).get("en", {}).get("name") or share_class.symbol,
            "isin": share_class.isin,
        },
        "totalNumberOfShares": shares_text(position.shares, share_class.share_decimals),
        "totalSharesAmount": money(position.holdings, share_class.currency),
        "totalGainSinceStart": money(holding.gain_since_start, share_class.currency),
    }


def portfolio(investor_id: str, holdings: list[Holding]) -> PortfolioBody:
    return {"investorId": investor_id, "items": [portfolio_item(holding) for holding in holdings]}


def portfolio_total(total: AccountTotal) -> PortfolioTotalBody:
    return {
        "accountId": total.account.id,
        "accountName": total.account.name or "",
        "totalBalance": money(total.total, total.currency),
        "breakdown": [money(amount, code) for code, amount in sorted(total.breakdown.items())],
    }
