"""Dependencies every route reuses: the context, a database session, and the authenticated investor."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from spiko.auth.principal import AuthFailure, Principal, authenticate
from spiko.context import AppContext
from spiko.errors import ForbiddenError


async def get_context(request: Request) -> AppContext:
    # async on purpose: FastAPI runs a plain ``def`` dependency in the threadpool.
    return request.app.state.ctx  # type: ignore[no-any-return]


Context = Annotated[AppContext, Depends(get_context)]


def _read_session(request: Request) -> Iterator[Session]:
    """A read-only session for GET routes; write routes open their own transaction."""
    with request.app.state.ctx.transaction(write=False) as session:
        yield session


DbSession = Annotated[Session, Depends(_read_session)]


async def authenticate_request(request: Request) -> Principal:
    """The investor behind the request's credentials (401 otherwise); counts refusals by reason."""
    # The header is read directly rather than declared as a FastAPI ``Header`` parameter: on the
    # hottest path of the API that parameter machinery costs more than verifying the key.
    authorization = request.headers.get("authorization")
    ctx: AppContext = request.app.state.ctx
    try:
        principal = await authenticate(ctx, authorization, request)
    except AuthFailure as failure:
        scheme = (authorization or "").partition(" ")[0].lower() or "none"
        if scheme not in ("basic", "bearer", "dpop", "none"):
            scheme = "other"
        request.app.state.metrics.auth_failures.labels(scheme, failure.reason_code).inc()
        raise
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(authenticate_request)]


def check_investor_param(principal: Principal, investor_id: str | None) -> str:
    """An ``investorId`` parameter may only name the caller's own investor (else 403)."""
    if investor_id is not None and investor_id != principal.investor_id:
        raise ForbiddenError("investorId does not match the authenticated investor")
    return principal.investor_id
