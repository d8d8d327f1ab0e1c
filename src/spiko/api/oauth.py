"""The authorization server's JSON endpoints: discovery, keys, token, revocation, introspection,
UserInfo and pushed authorization requests.

Each handler reads the request on the event loop, then runs the framework-free endpoint
(``spiko.auth.oauth.flows``) in the thread pool. The pages (authorization, consent, logout,
authorized apps) are in ``spiko.web.oauth``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from spiko.api.oauth_http import read_request, to_response
from spiko.auth.oauth import flows, introspection, par
from spiko.auth.oauth.metadata import authorization_server_metadata, openid_configuration
from spiko.auth.oauth.runtime import oauth_server
from spiko.auth.oauth.server import AuthorizationServer
from spiko.context import AppContext

router = APIRouter(include_in_schema=False)


def _ctx(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


def _server(request: Request) -> AuthorizationServer:
    return oauth_server(_ctx(request))


# -- discovery -------------------------------------------------------------------------------------


@router.get("/.well-known/openid-configuration")
async def openid_configuration_document(request: Request) -> Response:
    return JSONResponse(openid_configuration(_ctx(request).settings.issuer, _ctx(request).settings))


@router.get("/.well-known/oauth-authorization-server")
async def authorization_server_document(request: Request) -> Response:
    return JSONResponse(authorization_server_metadata(_ctx(request).settings.issuer, _ctx(request).settings))


@router.get("/.well-known/jwks.json")
async def jwks(request: Request) -> Response:
    keys = await run_in_threadpool(flows.jwks, _server(request))
    # Short-lived in caches, so a rotated-in key is picked up quickly by verifiers.
    return JSONResponse(keys, headers={"Cache-Control": "public, max-age=60"})


# -- token, revocation, introspection, UserInfo ----------------------------------------------------


@router.post("/oauth2/token")
async def token(request: Request) -> Response:
    server = _server(request)
    http = await read_request(request, server.settings.issuer)
    return to_response(await run_in_threadpool(flows.token, server, http))


@router.post("/oauth2/revoke")
async def revoke(request: Request) -> Response:
    server = _server(request)
    http = await read_request(request, server.settings.issuer)
    return to_response(await run_in_threadpool(flows.revoke, server, http))


@router.post("/oauth2/introspect")
async def introspect(request: Request) -> Response:
    server = _server(request)
    http = await read_request(request, server.settings.issuer)
    answer = introspection.introspect_cached(server, http)  # no I/O: on the event loop
    if answer is None and await introspection.fill_caches(server, http):
        answer = introspection.introspect_cached(server, http)
    if answer is None:
        answer = await run_in_threadpool(introspection.introspect, server, http)
    return to_response(answer)


@router.api_route("/userinfo", methods=["GET", "POST"])
async def userinfo(request: Request) -> Response:
    server = _server(request)
    http = await read_request(request, server.settings.issuer)
    return to_response(await run_in_threadpool(flows.userinfo, server, http))


# -- pushed authorization requests (RFC 9126) ------------------------------------------------------


@router.post(par.PAR_PATH)
async def pushed_authorization_request(request: Request) -> Response:
    server = _server(request)
    http = await read_request(request, server.settings.issuer, params_from="form")
    return to_response(await run_in_threadpool(par.push, server, http))
