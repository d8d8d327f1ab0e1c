"""Accounting positions (reference tag "Accounting positions"): daily positions and the PDF statement."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from spiko.api.deps import Context, CurrentPrincipal, check_investor_param
from spiko.api.routing import PresentedRoute
from spiko.presenters.accounting_positions import (
    AccountPositionBody,
    InvestorPositionBody,
    account_position,
    investor_position,
)
from spiko.services.reporting import history, statements

router = APIRouter(tags=["Accounting positions"], route_class=PresentedRoute)

Day = Annotated[date, Query(description='a day in ISO format "YYYY-MM-DD"')]


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

    def read(session: Session) -> list[InvestorPositionBody]:
        share_class = history.share_class(session, str(shareClassId))
        result = history.investor_history(session, investor_id, share_class.id, from_, to)
        return [
            investor_position(investor_id, share_class, result.account_ids, position)
            for position in result.positions
        ]

    body = history.read_fresh_investor(ctx, investor_id, str(shareClassId), read)
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

    def read(session: Session) -> list[AccountPositionBody]:
        share_class = history.share_class(session, str(shareClassId))
        entries = history.account_history(session, str(accountId), share_class.id, from_, to)
        return [
            account_position(investor_id, share_class, entry.id, entry.account_id, entry.position)
            for entry in entries
        ]

    body = history.read_fresh_account(ctx, investor_id, str(accountId), str(shareClassId), read)
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
