"""Accounting positions (reference tag "Accounting positions"): daily positions and the PDF statement."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import ROUND_DOWN, Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from spiko.api.deps import Context, CurrentPrincipal, check_investor_param
from spiko.db.models.funds import ShareClass
from spiko.domain.positions import DailyPosition
from spiko.services.reporting import history, statements
from spiko.services.reporting.positions import currency_decimals, day_start

router = APIRouter(tags=["Accounting positions"])

Day = Annotated[date, Query(description='a day in ISO format "YYYY-MM-DD"')]


def money(value: Decimal, currency: str) -> dict[str, str]:
    quantum = Decimal(1).scaleb(-currency_decimals(currency))
    return {"value": format(value.quantize(quantum), "f"), "currency": currency}


def shares_units(shares: Decimal, share_decimals: int) -> str:
    """Shares as a count of the smallest share unit (10^-shareDecimals): the reference's bigint."""
    return str(int(shares.scaleb(share_decimals).to_integral_value(rounding=ROUND_DOWN)))


def epoch(day: date) -> str:
    return str(int(day_start(day).timestamp()))


def flows(position: DailyPosition, currency: str) -> dict[str, Any]:
    def pair(of_day: Decimal, total: Decimal) -> dict[str, Any]:
        return {"ofDay": money(of_day, currency), "total": money(total, currency)}

    return {
        "subscriptions": pair(position.subscriptions, position.subscriptions_total),
        "redemptions": pair(position.redemptions, position.redemptions_total),
        "transfers": pair(position.transfers, position.transfers_total),
        "yield": pair(position.yield_, position.yield_total),
        "realizedGain": pair(position.realized_gain, position.realized_gain_total),
        "transferredGain": pair(position.transferred_gain, position.transferred_gain_total),
        "totalUnrealizedGain": money(position.unrealized_gain, currency),
    }


def position_body(share_class: ShareClass, position: DailyPosition) -> dict[str, Any]:
    return {
        "day": position.day.isoformat(),
        "status": position.status.value,
        "sharesHoldings": shares_units(position.shares, share_class.share_decimals),
        "holdings": money(position.holdings, share_class.currency),
        **flows(position, share_class.currency),
    }


@router.get(
    "/accounting-positions/history",
    operation_id="accountingPositions.getInvestorAccountingPositionsHistory",
    summary="Get accounting positions (midnight to midnight UTC) of an investor",
)
def investor_positions(
    principal: CurrentPrincipal,
    ctx: Context,
    investorId: uuid.UUID,
    shareClassId: uuid.UUID,
    from_: Annotated[date, Query(alias="from")],
    to: Day,
) -> JSONResponse:
    investor_id = check_investor_param(principal, str(investorId))
    history.refresh_investor(ctx, investor_id, str(shareClassId))
    with ctx.transaction(write=False) as session:
        share_class = history.share_class(session, str(shareClassId))
        result = history.investor_history(session, investor_id, share_class.id, from_, to)
        body = [
            {
                "investorId": investor_id,
                "shareClassId": share_class.id,
                "accountIds": result.account_ids,
                **position_body(share_class, position),
            }
            for position in result.positions
        ]
    # Plain dicts of strings: serialized as they are, without the framework's generic encoder.
    return JSONResponse(body)


@router.get(
    "/accounting-positions/account-history",
    operation_id="accountingPositions.getAccountingPositionsHistory",
    summary="Get accounting positions (midnight to midnight UTC) of an account",
)
def account_positions(
    principal: CurrentPrincipal,
    ctx: Context,
    accountId: uuid.UUID,
    shareClassId: uuid.UUID,
    from_: Annotated[date, Query(alias="from")],
    to: Day,
) -> JSONResponse:
    investor_id = principal.investor_id
    history.refresh_account(ctx, investor_id, str(accountId), str(shareClassId))
    with ctx.transaction(write=False) as session:
        share_class = history.share_class(session, str(shareClassId))
        entries = history.account_history(session, str(accountId), share_class.id, from_, to)
        body = [
            {
                "id": entry.id,
                "investorId": investor_id,
                "shareClassId": share_class.id,
                "accountId": entry.account_id,
                "navId": entry.position.nav.nav_id
                if entry.position.nav is not None and entry.position.status.value == "nav"
                else None,
                "timestampGte": epoch(entry.position.day),
                "timestampLt": epoch(date.fromordinal(entry.position.day.toordinal() + 1)),
                **position_body(share_class, entry.position),
            }
            for entry in entries
        ]
    return JSONResponse(body)


@router.get(
    "/accounting-positions/account-statement",
    operation_id="accountingPositions.downloadAccountStatement",
    summary="Download account statement",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def account_statement(
    principal: CurrentPrincipal,
    ctx: Context,
    investorId: uuid.UUID,
    shareClassSymbol: str,
    from_: Annotated[date, Query(alias="from")],
    to: Day,
    accountId: uuid.UUID | None = None,
    locale: Literal["en", "es", "fr", "it", "de"] = "en",
    showNumberOfShares: Literal["true", "false"] = "false",
) -> Response:
    investor_id = check_investor_param(principal, str(investorId))
    pdf, filename = statements.account_statement(
        ctx,
        investor_id=investor_id,
        account_id=str(accountId) if accountId else None,
        share_class_symbol=shareClassSymbol,
        first=from_,
        last=to,
        locale=locale,
        show_shares=showNumberOfShares == "true",
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
