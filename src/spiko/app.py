"""The ASGI application: every router, middleware and error handler, assembled in one place."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Receive, Scope, Send

from spiko import __version__
from spiko.api import oauth as oauth_api
from spiko.api import ops
from spiko.api import sandbox as sandbox_routes
from spiko.api.introspection_fast_path import PATH as INTROSPECTION_PATH
from spiko.api.introspection_fast_path import IntrospectionFastPath
from spiko.api.v0 import public
from spiko.api.v1 import (
    account_transactions,
    accounting_positions,
    accounts,
    bank_accounts,
    deposit_orders,
    events,
    investors,
    portfolio,
    redemption_orders,
    subscription_orders,
    transfer_orders,
    webhook_endpoints,
    withdrawal_orders,
    yields,
)
from spiko.auth.oauth.runtime import close_resource_replay
from spiko.config import Settings
from spiko.context import AppContext
from spiko.core.cors import ScopedCORSMiddleware
from spiko.core.edge import ControlCharacterMiddleware, Surface
from spiko.core.observability import Metrics, ObservabilityMiddleware, access_lines, configure_logging
from spiko.core.paths import TrailingSlashMiddleware
from spiko.core.transport import StrictTransportSecurityMiddleware
from spiko.errors import (
    ApiError,
    ForbiddenError,
    HttpApiDecodeError,
    InternalServerError,
    NotFoundError,
    decode_error_from_validation,
)
from spiko.i18n import N_
from spiko.outbox.delivery import InProcessWorker
from spiko.web import accounts as web_accounts
from spiko.web import authorized_apps as web_authorized_apps
from spiko.web import bank_accounts as web_bank_accounts
from spiko.web import dashboard as web_dashboard
from spiko.web import docs as web_docs
from spiko.web import links as web_links
from spiko.web import locale as web_locale
from spiko.web import members as web_members
from spiko.web import oauth as web_oauth
from spiko.web import orders as web_orders
from spiko.web import routes as web_routes
from spiko.web import security as web_security
from spiko.web import signin_steps as web_signin_steps
from spiko.web import statements as web_statements
from spiko.web import webhooks as web_webhooks
from spiko.web.guard import PAGE_GUARD, PageForbidden, forbidden_page
from spiko.web.rendering import STATIC_DIR, render, translate

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
    events.router,
    webhook_endpoints.router,
]

API_PREFIXES = ("/v1/", "/v0/", "/sandbox/")
OAUTH_PREFIXES = ("/oauth2/", "/.well-known/", "/userinfo")


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIXES) or path in ("/v1", "/v0")


def is_oauth_path(path: str) -> bool:
    return path.startswith(OAUTH_PREFIXES)


def surface_of(path: str) -> Surface:
    """Which of the server's surfaces answers a path, for refusals made before any route."""
    return "api" if is_api_path(path) else "oauth" if is_oauth_path(path) else "page"


def _tagged(error: ApiError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


def _page(request: Request, status_code: int, title: str, message: str) -> Response:
    return render(
        request,
        "error.html",
        status_code=status_code,
        title=translate(request, title),
        message=translate(request, message),
    )


def unexpected_error_response(
    scope: dict[str, Any], request_id: str
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """The 500 for an unexpected exception: in each surface's own format, never a traceback."""
    path = scope.get("path", "")
    accept = next((value for name, value in scope.get("headers", ()) if name == b"accept"), b"")
    if is_api_path(path) or b"text/html" not in accept:
        if is_oauth_path(path):
            description = f"An unexpected error occurred (request {request_id})"
            body = json.dumps({"error": "server_error", "error_description": description}).encode()
            return 500, [(b"content-type", b"application/json"), (b"cache-control", b"no-store")], body
        body = json.dumps(InternalServerError(request_id).body()).encode()
        return 500, [(b"content-type", b"application/json")], body
    html = (
        "<!doctype html><html lang=en><meta charset=utf-8><title>Something went wrong · Spiko</title>"
        '<link rel="stylesheet" href="/static/app.css"><main><section class="card narrow">'
        "<h1>Something went wrong</h1><p>The page could not be shown. Please try again in a moment.</p>"
        f'<p class="muted">Reference: <code>{request_id}</code></p></section></main></html>'
    )
    return 500, [(b"content-type", b"text/html; charset=utf-8")], html.encode()


# The investor app's pages; each passes the role check of spiko.web.guard before its route.
PAGE_ROUTERS = (
    web_oauth.router,
    web_authorized_apps.router,
    web_routes.router,
    web_signin_steps.router,
    web_security.router,
    web_webhooks.router,
    web_members.router,
    web_links.router,
    web_locale.router,
    web_dashboard.router,
    web_accounts.router,
    web_orders.router,
    web_statements.router,
    web_bank_accounts.router,
)


def install_error_handlers(app: FastAPI) -> None:
    """Expected errors, mapped once; unexpected ones end in ``ObservabilityMiddleware``."""

    @app.exception_handler(ApiError)
    async def api_error(request: Request, error: ApiError) -> Response:
        return _tagged(error)

    @app.exception_handler(PageForbidden)
    async def page_forbidden(request: Request, refused: PageForbidden) -> Response:
        return forbidden_page(request, refused)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        decoded = decode_error_from_validation(list(error.errors()))
        if is_api_path(request.url.path) or is_oauth_path(request.url.path):
            return _tagged(decoded)
        return render(
            request,
            "error.html",
            status_code=400,
            title=translate(request, "Invalid form"),
            message=translate(
                request, "The form could not be read: %(reason)s", reason=decoded.fields["message"]
            ),
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        path = request.url.path
        if is_api_path(path) or is_oauth_path(path):
            if error.status_code == 404:
                return _tagged(NotFoundError("No such route"))
            if error.status_code == 403:
                return _tagged(ForbiddenError())
            if error.status_code == 400 and is_api_path(path):
                # A body the framework could not even read (bytes that are not UTF-8, a broken
                # multipart form): the reference's decode error, like any other unreadable body.
                return _tagged(HttpApiDecodeError.single([], f"the body could not be read: {error.detail}"))
            body = {"_tag": "HttpError", "message": str(error.detail)}
            return JSONResponse(body, status_code=error.status_code, headers=error.headers)
        if error.status_code == 404:
            return _page(request, 404, N_("Page not found"), N_("There is no page at this address."))
        return _page(request, error.status_code, N_("Request refused"), str(error.detail))


class SpikoApp(FastAPI):
    """The application, with the introspection fast path (``spiko.api.introspection_fast_path``) in
    front of everything, FastAPI's own per-request work included."""

    introspection: IntrospectionFastPath | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.introspection is not None and scope["type"] == "http" and scope["path"] == INTROSPECTION_PATH:
            await self.introspection(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The application without the fast path: what it passes every other request to."""
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None, ctx: AppContext | None = None) -> FastAPI:
    if ctx is None:
        ctx = AppContext(settings or Settings.from_env())
    settings = ctx.settings
    configure_logging(settings.log_level)
    metrics = Metrics()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async def record_key_use_forever() -> None:
            while True:
                await asyncio.sleep(settings.api_key_last_used_flush_seconds)
                try:
                    await run_in_threadpool(ctx.api_keys.flush_last_used)
                except Exception:
                    logger.exception("could not record API key use")

        async def write_access_log_forever() -> None:
            while True:
                await asyncio.sleep(access_lines.max_delay)
                access_lines.flush()

        # Revocations made by other processes, applied here as soon as Redis delivers them.
        ctx.invalidations.on_received = lambda topic: metrics.invalidations.labels(topic).inc()
        ctx.invalidations.start()
        tasks = [
            asyncio.create_task(record_key_use_forever()),
            asyncio.create_task(write_access_log_forever()),
        ]
        webhook_worker = InProcessWorker(ctx) if settings.webhook_in_process_worker else None
        if webhook_worker is not None:
            webhook_worker.start()
        try:
            yield
        finally:
            if webhook_worker is not None:
                await run_in_threadpool(webhook_worker.stop)
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            try:
                await run_in_threadpool(ctx.api_keys.flush_last_used)
            except Exception:
                logger.exception("could not record API key use")
            access_lines.flush()
            ctx.invalidations.close()
            await close_resource_replay(ctx)

    app = SpikoApp(
        # The server's observability is its own (spiko.core.observability: Prometheus metrics, JSON
        # logs): FastAPI's OpenTelemetry bridge would only look for providers on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        title="Spiko",
        version=__version__,
        summary="Investor API v1, Public API v0, OAuth 2.0 authorization server and investor app",
        lifespan=lifespan,
        redirect_slashes=False,
        docs_url=None,  # served by spiko.web.docs, from files shipped with the package
        openapi_url="/openapi.json",
        redoc_url=None,
    )
    app.state.ctx = ctx
    app.state.metrics = metrics
    install_error_handlers(app)

    for router in V1_ROUTERS:
        app.include_router(router, prefix="/v1")
    app.include_router(public.router, prefix="/v0")
    app.include_router(oauth_api.router)
    # Every investor-app page passes the role check first (spiko.web.guard, spiko.auth.roles).
    for page_router in PAGE_ROUTERS:
        app.include_router(page_router, dependencies=PAGE_GUARD)
    app.include_router(ops.router)
    if settings.sandbox_mode:
        app.include_router(sandbox_routes.router)
    app.include_router(web_docs.router, dependencies=PAGE_GUARD)
    app.mount(web_docs.ASSETS_PATH, web_docs.assets, name="docs-assets")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    if settings.cors_origins:
        app.add_middleware(ScopedCORSMiddleware, origins=settings.cors_origins)
    app.add_middleware(ControlCharacterMiddleware, surface_of=surface_of)
    if settings.issuer.startswith("https://"):
        app.add_middleware(StrictTransportSecurityMiddleware)
    app.add_middleware(TrailingSlashMiddleware)
    app.add_middleware(ObservabilityMiddleware, metrics=metrics, error_response=unexpected_error_response)
    # In front of all of it: the common introspection, answered from the caches (the same bytes,
    # counted and logged the same way); every other request goes on to the application unchanged.
    app.introspection = IntrospectionFastPath(app.handle, ctx=ctx, metrics=metrics)
    return app


def create_app_from_env() -> FastAPI:
    """Factory for uvicorn workers (``spiko serve --workers N``): settings from SPIKO_* variables."""
    app = create_app(Settings.from_env())
    # Everything loaded so far (modules, specs, mappers, the app) lives as long as the worker:
    # keep it out of the cyclic garbage collector's full passes, which would otherwise walk all
    # of it again and again under load. Only here, in a server process: not for apps in tests.
    gc.collect()
    gc.freeze()
    return app
