"""Yields (reference tag "Yields"): daily yield of an account in a share class."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from spiko.api.deps import Context, CurrentPrincipal
from spiko.api.v1.accounting_positions import money
from spiko.services.reporting import history

router = APIRouter(tags=["Yields"])


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
    history.refresh_account(ctx, investor_id, str(accountId), str(shareClassId))
    with ctx.transaction(write=False) as session:
        share_class = history.share_class(session, str(shareClassId))
        entries = history.yield_history(session, str(accountId), share_class.id, from_, to)
        items = []
        for entry in entries:
            nav = entry.position.nav
            assert nav is not None and nav.nav_id is not None
            items.append(
                {
                    "day": entry.position.day.isoformat(),
                    "shareClassId": share_class.id,
                    "investorId": investor_id,
                    "accountId": entry.account_id,
                    "yield": money(entry.position.yield_, share_class.currency),
                    "navId": nav.nav_id,
                    "navUpdateDate": nav.day.isoformat(),
                }
            )
    return JSONResponse(items)
