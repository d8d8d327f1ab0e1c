"""Portfolio (reference tag "Portfolio"): holdings per account and share class, and totals per account."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import APIRouter

from spiko.api.deps import Context, CurrentPrincipal, check_investor_param
from spiko.api.v1.accounting_positions import money
from spiko.services.reporting import history

router = APIRouter(tags=["Portfolio"])

Currency = Literal["EUR", "USD", "GBP", "CHF", "JPY", "SGD"]


def _share_decimals(value: Any, decimals: int) -> str:
    from decimal import Decimal

    return format(value.quantize(Decimal(1).scaleb(-decimals)), "f")


@router.get("/portfolio", operation_id="portfolio.getPortfolio", summary="Get portfolio")
def get_portfolio(principal: CurrentPrincipal, ctx: Context, investorId: uuid.UUID) -> dict[str, Any]:
    investor_id = check_investor_param(principal, str(investorId))
    history.refresh_investor(ctx, investor_id, None)
    with ctx.transaction(write=False) as session:
        items = []
        for holding in history.holdings(session, investor_id):
            share_class, position = holding.share_class, holding.position
            items.append(
                {
                    "name": holding.account.name or share_class.symbol,
                    "account": {"id": holding.account.id},
                    "custodialAccount": {},
                    "shareClassAccount": {},
                    "shareClass": {
                        "id": share_class.id,
                        "name": (share_class.data or {}).get("en", {}).get("name") or share_class.symbol,
                        "isin": share_class.isin,
                    },
                    "totalNumberOfShares": _share_decimals(position.shares, share_class.share_decimals),
                    "totalSharesAmount": money(position.holdings, share_class.currency),
                    "totalGainSinceStart": money(holding.gain_since_start, share_class.currency),
                }
            )
        return {"investorId": investor_id, "items": items}


@router.get("/portfolio/totals", operation_id="portfolio.getPortfolioTotals", summary="Get portfolio totals")
def get_portfolio_totals(
    principal: CurrentPrincipal, ctx: Context, investorId: uuid.UUID, currency: Currency | None = None
) -> list[dict[str, Any]]:
    investor_id = check_investor_param(principal, str(investorId))
    history.refresh_investor(ctx, investor_id, None)
    with ctx.transaction(write=False) as session:
        return [
            {
                "accountId": total.account.id,
                "accountName": total.account.name or "",
                "totalBalance": money(total.total, total.currency),
                "breakdown": [money(amount, code) for code, amount in sorted(total.breakdown.items())],
            }
            for total in history.portfolio_totals(
                session, investor_id, currency, max_rate_age_days=ctx.settings.fx_max_age_days
            )
        ]
