"""Operations: liveness, readiness, Prometheus metrics, and each API's own specification."""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from ipaddress import ip_address
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from spiko.auth.secrets import constant_time_equals
from spiko.config import Settings
from spiko.errors import ForbiddenError

SPECS_DIR = Path(__file__).resolve().parent.parent / "specs"

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=2)
def load_spec(name: str) -> dict[str, Any]:
    """The reference specification kept in the project (structure only; never changes at run time)."""
    with open(SPECS_DIR / f"{name}-openapi.json", encoding="utf-8") as handle:
        document: dict[str, Any] = json.load(handle)
        return document


def published_spec(name: str, issuer: str, prefix: str) -> dict[str, Any]:
    spec = copy.deepcopy(load_spec(name))
    spec["servers"] = [{"url": issuer + prefix}]
    if name == "investor":
        flows = spec["components"]["securitySchemes"]["oauth2"]["flows"]["authorizationCode"]
        flows["authorizationUrl"] = issuer + "/oauth2/auth"
        flows["tokenUrl"] = issuer + "/oauth2/token"
    return spec


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> Response:
    ctx = request.app.state.ctx

    def ping() -> None:
        with ctx.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    try:
        await run_in_threadpool(ping)
    except Exception:
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "reachable"})


def metrics_allowed(settings: Settings, client_host: str | None, authorization: str | None) -> bool:
    """Served to the configured Bearer token, or to the configured addresses; else to nobody."""
    if settings.metrics_token and authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and constant_time_equals(token.strip(), settings.metrics_token):
            return True
    if client_host and settings.metrics_allowed_addresses:
        try:
            address = ip_address(client_host)
        except ValueError:
            return False
        return any(address in network for network in settings.metrics_networks)
    return False


@router.get("/metrics")
def metrics(request: Request) -> Response:
    settings = request.app.state.ctx.settings
    host = request.client.host if request.client else None
    if not metrics_allowed(settings, host, request.headers.get("authorization")):
        raise ForbiddenError(
            "Metrics are served only with SPIKO_METRICS_TOKEN or to SPIKO_METRICS_ALLOWED_ADDRESSES"
        )
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE_LATEST)


@router.get("/v1/docs/openapi.json")
def investor_spec(request: Request) -> JSONResponse:
    return JSONResponse(published_spec("investor", request.app.state.ctx.settings.issuer, "/v1"))


@router.get("/v0/docs/openapi.json")
def public_spec(request: Request) -> JSONResponse:
    return JSONResponse(published_spec("public", request.app.state.ctx.settings.issuer, "/v0"))
