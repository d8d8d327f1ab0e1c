"""Investors: the authenticated investor (reference tag "Investors")."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from spiko.api.deps import CurrentPrincipal, authenticate_request
from spiko.api.routing import PresentedRoute
from spiko.context import AppContext
from spiko.presenters.investors import investor
from spiko.services.identity import get_investor

router = APIRouter(tags=["Investors"], route_class=PresentedRoute)
JSON = "application/json"


def _read_body(ctx: AppContext, investor_id: str) -> bytes:
    # The cache's loader: its own read transaction, outside the dependency machinery (see get_me).
    with ctx.transaction(write=False) as session:
        body = investor(get_investor(session, investor_id))
    return bytes(JSONResponse(body).body)  # encoded once, served from the cache until it expires


async def investor_json(ctx: AppContext, investor_id: str) -> bytes:
    """The investor's API body as JSON: from the ≤1 s cache on the event loop, else one shared read."""
    return await ctx.investor_cache.get_or_load(investor_id, lambda: _read_body(ctx, investor_id))


@router.get("/investors/me", operation_id="investors.getInvestor", summary="Get investor info")
async def get_me(request: Request) -> Response:
    # The hottest route of the API: it awaits the same authentication as ``CurrentPrincipal``
    # directly, which spares FastAPI's dependency resolution (a fifth of its cost).
    principal = await authenticate_request(request)
    return Response(await investor_json(request.app.state.ctx, principal.investor_id), media_type=JSON)


@router.get(
    "/investors",
    operation_id="investors.getInvestors",
    summary="List investors (deprecated: use /investors/me)",
    deprecated=True,
)
async def list_investors(principal: CurrentPrincipal, request: Request) -> Response:
    body = await investor_json(request.app.state.ctx, principal.investor_id)
    return Response(b"[" + body + b"]", media_type=JSON)
