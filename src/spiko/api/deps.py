"""Dependencies every route reuses: the context, the transaction, idempotency, the authenticated investor.

The transaction boundary of an HTTP request is one of these: ``ReadSession`` (a read-only
transaction), ``WriteSession`` (a write transaction committed before the response is sent), or
``Idempotent`` (a write transaction run at most once per ``Idempotency-Key``). Reporting reads
that first bring stored positions up to date call their two-transaction service with ``Context``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from spiko.auth.credentials import AuthFailure, Principal
from spiko.auth.principal import authenticate
from spiko.auth.scopes import enforce
from spiko.context import AppContext
from spiko.errors import ForbiddenError
from spiko.services import idempotency


async def get_context(request: Request) -> AppContext:
    # async on purpose: FastAPI runs a plain ``def`` dependency in the threadpool.
    ctx: AppContext = request.app.state.ctx
    return ctx


Context = Annotated[AppContext, Depends(get_context)]


def _read_session(request: Request) -> Iterator[Session]:
    """A read-only transaction for the route."""
    with request.app.state.ctx.transaction(write=False) as session:
        yield session


def _write_session(request: Request) -> Iterator[Session]:
    """A write transaction for the route, committed when it returns (before the response is sent)."""
    with request.app.state.ctx.transaction() as session:
        yield session


ReadSession = Annotated[Session, Depends(_read_session)]
WriteSession = Annotated[Session, Depends(_write_session, scope="function")]


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
    if principal.scopes is not None:  # a narrowed credential: only its families of operations
        enforce(principal.scopes, getattr(request.scope.get("route"), "operation_id", None))
    return principal


CurrentPrincipal = Annotated[Principal, Depends(authenticate_request)]


def check_investor_param(principal: Principal, investor_id: str | None) -> str:
    """An ``investorId`` parameter may only name the caller's own investor (else 403)."""
    if investor_id is not None and investor_id != principal.investor_id:
        raise ForbiddenError("investorId does not match the authenticated investor")
    return principal.investor_id


IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=idempotency.MIN_KEY_LENGTH,
        max_length=idempotency.MAX_KEY_LENGTH,
        description="Retries with the same key and body return the first response without acting twice "
        "(8 to 255 characters, kept 24 hours).",
    ),
]


class IdempotentRequest:
    """A POST route's action: one write transaction, run at most once per ``Idempotency-Key``."""

    def __init__(self, ctx: AppContext, request: Request, principal: Principal, key: str | None) -> None:
        self._ctx = ctx
        self._request = request
        self._principal = principal
        self._key = key

    def run(self, body: BaseModel | None, action: Callable[[Session], Any]) -> JSONResponse:
        """Run ``action`` (see ``services.idempotency``); a replay answers the stored response."""
        outcome = idempotency.run_once(
            self._ctx,
            investor_id=self._principal.investor_id,
            key=self._key,
            method=self._request.method,
            path=self._request.url.path,
            payload=body.model_dump(mode="json") if body is not None else None,
            action=action,
        )
        headers = {"Idempotent-Replayed": "true"} if outcome.replayed else None
        return JSONResponse(outcome.body, status_code=outcome.status, headers=headers)


async def _idempotent(
    request: Request, principal: CurrentPrincipal, key: IdempotencyKeyHeader = None
) -> IdempotentRequest:
    return IdempotentRequest(request.app.state.ctx, request, principal, key)


Idempotent = Annotated[IdempotentRequest, Depends(_idempotent)]
