"""Yields (reference tag "Yields"): daily yield of an account in a share class."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from spiko.api.deps import Context, CurrentPrincipal
from spiko.api.routing import PresentedRoute
from spiko.presenters.yields import DailyYieldBody, daily_yield
from spiko.services.reporting import history

router = APIRouter(tags=["Yields"], route_class=PresentedRoute)


@router.get(
    "/yields/history", operation_id="yields.getYieldHistory", summary="Get daily yields of an account"
)
def yield_history(
    principal: CurrentPrincipal,
    ctx: Context,
    shareClassId: uuid.UUID,
    accountId: uuid.UUID,
    from_: Annotated[date, Query(alias="from")],
    to: date,
) -> JSONResponse:
    """Daily yield = shares held × (NAV of the day − NAV of the previous business day), as the change
    of holdings rounded to the cent (see docs/reporting.md)."""
    investor_id = principal.investor_id

    def read(session: Session) -> list[DailyYieldBody]:
        share_class = history.share_class(session, str(shareClassId))
        entries = history.yield_history(session, str(accountId), share_class.id, from_, to)
        return [daily_yield(investor_id, share_class, entry) for entry in entries]

    body = history.read_fresh_account(ctx, investor_id, str(accountId), str(shareClassId), read)
    return JSONResponse(body)
