"""Portfolio (reference tag "Portfolio"): holdings per account and share class, and totals per account."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from spiko.api.deps import Context, CurrentPrincipal, check_investor_param
from spiko.api.routing import PresentedRoute
from spiko.domain.money import Currency
from spiko.presenters import portfolio as present
from spiko.presenters.portfolio import PortfolioBody, PortfolioTotalBody
from spiko.services.reporting import history

router = APIRouter(tags=["Portfolio"], route_class=PresentedRoute)


@router.get("/portfolio", operation_id="portfolio.getPortfolio", summary="Get portfolio")
def get_portfolio(principal: CurrentPrincipal, ctx: Context, investorId: uuid.UUID) -> PortfolioBody:
    investor_id = check_investor_param(principal, str(investorId))
    return history.read_fresh_investor(
        ctx,
        investor_id,
        None,
        lambda session: present.portfolio(investor_id, history.holdings(session, investor_id)),
    )


@router.get("/portfolio/totals", operation_id="portfolio.getPortfolioTotals", summary="Get portfolio totals")
def get_portfolio_totals(
    principal: CurrentPrincipal, ctx: Context, investorId: uuid.UUID, currency: Currency | None = None
) -> list[PortfolioTotalBody]:
    investor_id = check_investor_param(principal, str(investorId))
    return history.read_fresh_investor(
        ctx,
        investor_id,
        None,
        lambda session: [
            present.portfolio_total(total)
            for total in history.portfolio_totals(
                session, investor_id, currency, max_rate_age_days=ctx.settings.fx_max_age_days
            )
        ],
    )
