"""The ASGI application: every router, middleware and error handler, assembled in one place."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from spiko import __version__
from spiko.api import ops
from spiko.api.v0 import public
from spiko.api.v1 import (
    account_transactions,
    accounting_positions,
    accounts,
    bank_accounts,
    deposit_orders,
    investors,
    portfolio,
    redemption_orders,
    subscription_orders,
    transfer_orders,
    withdrawal_orders,
    yields,
)
from spiko.auth.oauth import routes as oauth_routes
from spiko.config import Settings
from spiko.context import AppContext
from spiko.core.observability import Metrics, ObservabilityMiddleware, configure_logging, request_id_var
from spiko.core.paths import TrailingSlashMiddleware
from spiko.errors import (
    ApiError,
    ForbiddenError,
    InternalServerError,
    NotFoundError,
    decode_error_from_validation,
)
from spiko.web import routes as web_routes
from spiko.web.rendering import STATIC_DIR

logger = logging.getLogger("spiko.app")

V1_ROUTERS = [
    investors.router,
    accounts.router,
    bank_accounts.router,
    deposit_orders.router,
    subscription_orders.router,
    withdrawal_orders.router,
    redemption_orders.router,
    transfer_orders.router,
    account_transactions.router,
    portfolio.router,
    accounting_positions.router,
    yields.router,
]

API_PREFIXES = ("/v1/", "/v0/")


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIXES) or path in ("/v1", "/v0")


def _tagged(error: ApiError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, error: ApiError) -> Response:
        return _tagged(error)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        return _tagged(decode_error_from_validation(list(error.errors())))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if is_api_path(request.url.path) or request.url.path.startswith("/oauth2"):
            if error.status_code == 404:
                return _tagged(NotFoundError("No such route"))
            if error.status_code == 403:
                return _tagged(ForbiddenError())
            body = {"_tag": "HttpError", "message": str(error.detail)}
            return JSONResponse(body, status_code=error.status_code, headers=error.headers)
        if error.status_code == 404:
            return HTMLResponse("<h1>Not found</h1>", status_code=404)
        return HTMLResponse(f"<h1>{error.status_code}</h1>", status_code=error.status_code)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        logger.error("unhandled error", exc_info=error)
        return _tagged(InternalServerError(request_id_var.get()))


def create_app(settings: Settings | None = None, ctx: AppContext | None = None) -> FastAPI:
    if ctx is None:
        ctx = AppContext(settings or Settings.from_env())
    settings = ctx.settings
    configure_logging(settings.log_level)
    metrics = Metrics()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async def flush_forever() -> None:
            while True:
                await asyncio.sleep(settings.api_key_last_used_flush_seconds)
                try:
                    await run_in_threadpool(ctx.api_keys.flush_last_used)
                except Exception:
                    logger.exception("could not record API key use")

        task = asyncio.create_task(flush_forever())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await run_in_threadpool(ctx.api_keys.flush_last_used)

    app = FastAPI(
        title="Spiko",
        version=__version__,
        summary="Investor API v1, Public API v0, OAuth 2.0 authorization server and investor app",
        lifespan=lifespan,
        redirect_slashes=False,
        docs_url="/docs",
        openapi_url="/openapi.json",
        redoc_url=None,
    )
    app.state.ctx = ctx
    app.state.metrics = metrics
    install_error_handlers(app)

    for router in V1_ROUTERS:
        app.include_router(router, prefix="/v1")
    app.include_router(public.router, prefix="/v0")
    app.include_router(oauth_routes.router)
    app.include_router(web_routes.router)
    app.include_router(ops.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    app.add_middleware(TrailingSlashMiddleware)
    app.add_middleware(ObservabilityMiddleware, metrics=metrics)
    return app


def create_app_from_env() -> FastAPI:
    """Factory for uvicorn workers (``spiko serve --workers N``): settings from SPIKO_* variables."""
    return create_app(Settings.from_env())
