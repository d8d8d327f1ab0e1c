"""The authorization server's pages: the authorization endpoint with its sign-in and consent
steps, its error page, and RP-initiated logout.

Each handler reads the request on the event loop, then runs the framework-free server
(``spiko.auth.oauth``) in the thread pool inside one database transaction
(``AuthorizationServer.run``). The JSON endpoints are in ``spiko.api.oauth``.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from authlib.oauth2.rfc6749 import OAuth2Error
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oidc.core.errors import ConsentRequiredError, LoginRequiredError
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from spiko.api.oauth_http import read_request, to_response
from spiko.auth import roles
from spiko.auth import scopes as api_scopes
from spiko.auth.oauth import consent, par, scopes
from spiko.auth.oauth.requests import HttpRequest, OAuthResponse, first_values
from spiko.auth.oauth.runtime import oauth_server
from spiko.auth.oauth.server import AuthorizationServer
from spiko.auth.oauth.tokens import GrantUser
from spiko.auth.oauth.unit import UnitOfWork
from spiko.auth.sessions import SignedInUser, csrf_valid, current_user, end_session
from spiko.auth.stepup import require_recent_factor
from spiko.db.models.identity import WebSession
from spiko.services import security_events
from spiko.services.security_events import Origin
from spiko.web.rendering import render, translate
from spiko.web.routes import app_context, csrf_refused, to_login

router = APIRouter(include_in_schema=False)


def _server(request: Request) -> AuthorizationServer:
    return oauth_server(app_context(request))


# -- authorization endpoint (RFC 6749 section 3.1) -------------------------------------------------


def _consenting_user(session: Session, request: Request) -> tuple[SignedInUser | None, GrantUser | None]:
    """The signed-in user, and the same as a grant's user with when they signed in (OIDC auth_time)."""
    user = current_user(session, request)
    if user is None:
        return None, None
    web_session = session.get(WebSession, user.session_id)
    auth_time = web_session.created_at if web_session else None
    return user, GrantUser(user.user_id, user.investor_id, auth_time)


def _error_page(request: Request, error: OAuth2Error, status_code: int = 400) -> Response:
    return render(
        request,
        "oauth_error.html",
        status_code=status_code,
        title=translate(request, "This authorization request cannot be processed"),
        error=error.error,
        description=error.get_error_description() if hasattr(error, "get_error_description") else "",
    )


def _refuse(
    server: AuthorizationServer, request: Request, oauth_request: Any, error: OAuth2Error
) -> Response:
    """Errors go back to the client only once its redirect URI is known to be its own (RFC 6749 4.1.2.1)."""
    if error.redirect_uri:
        answer: OAuthResponse = server.handle_error_response(oauth_request, error)
        return to_response(answer)
    return _error_page(request, error)


def _max_age(raw: str | None) -> int | None:
    """The OIDC ``max_age`` parameter: a non-negative whole number of seconds, or absent."""
    if raw is None or raw == "":
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        raise InvalidRequestError("max_age must be a non-negative number of seconds")
    return int(raw)


def _signed_in_too_long_ago(grant_user: GrantUser, max_age: int | None) -> bool:
    if max_age is None:
        return False
    if grant_user.auth_time is None:
        return True
    return time.time() - grant_user.auth_time.timestamp() > max_age


def _sign_in_again(request: Request) -> Response:
    """To the sign-in form even though a session exists (``prompt=login``, or an old ``max_age``).

    After signing in, the browser comes back to the same authorization request without
    ``prompt=login`` and ``max_age``: the new session has just been created, which is what both
    asked for, and the ID token's ``auth_time`` says when.
    """
    kept = []
    for key, value in parse_qsl(request.url.query, keep_blank_values=True):
        if key == "max_age":
            continue
        if key == "prompt":
            value = " ".join(word for word in value.split() if word != "login")
            if not value:
                continue
        kept.append((key, value))
    target = request.url.path + (f"?{urlencode(kept)}" if kept else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def _authorize(
    server: AuthorizationServer, request: Request, http: HttpRequest, decision_form: dict[str, str] | None
) -> Response:
    def action(unit: UnitOfWork) -> Response:
        user, grant_user = _consenting_user(unit.session, request)
        oauth_request = None
        try:
            oauth_request = server.create_oauth2_request(par.resolve(unit, http, code_ttl))
            grant = server.get_consent_grant(oauth_request, end_user=grant_user)
        except OAuth2Error as error:
            return _refuse(server, request, oauth_request, error)
        prompts = (oauth_request.payload.data.get("prompt") or "").split()
        state = oauth_request.payload.state
        if "none" in prompts and len(prompts) > 1:
            combined = InvalidRequestError(
                "prompt=none cannot be combined with other values",
                redirect_uri=grant.redirect_uri,
                state=state,
            )
            return _refuse(server, request, oauth_request, combined)
        try:
            max_age = _max_age(oauth_request.payload.data.get("max_age"))
        except InvalidRequestError as malformed:
            malformed.redirect_uri, malformed.state = grant.redirect_uri, state
            return _refuse(server, request, oauth_request, malformed)
        if user is None or grant_user is None:
            if "none" in prompts:
                refusal = LoginRequiredError(redirect_uri=grant.redirect_uri, state=state)
                return _refuse(server, request, oauth_request, refusal)
            return to_login(request)
        if decision_form is None and ("login" in prompts or _signed_in_too_long_ago(grant_user, max_age)):
            if "none" in prompts:
                return _refuse(
                    server,
                    request,
                    oauth_request,
                    LoginRequiredError(redirect_uri=grant.redirect_uri, state=state),
                )
            return _sign_in_again(request)
        client = oauth_request.client
        scope = oauth_request.scope or ""
        if decision_form is None:
            remembered = consent.has_consent(
                unit.session, investor_id=user.investor_id, client=client, scope=scope
            )
            if remembered and "consent" not in prompts:
                return _authorization_response(server, oauth_request, grant_user, grant)
            if "none" in prompts:
                refusal = ConsentRequiredError(redirect_uri=grant.redirect_uri, state=state)
                return _refuse(server, request, oauth_request, refusal)
            # Authorizing an app is a sensitive change: an old check asks again before the page.
            if (again := require_recent_factor(request, user, back_to=_this_request(request))) is not None:
                return again
            return _consent_page(request, user, client, scope, grant.redirect_uri)
        if not csrf_valid(request, decision_form.get("csrf_token")):
            return csrf_refused(request)
        decision = decision_form.get("decision")
        if decision == "allow":
            if (again := require_recent_factor(request, user, back_to=_this_request(request))) is not None:
                return again
            consent.remember_consent(
                unit.session, investor_id=user.investor_id, user_id=user.user_id, client=client, scope=scope
            )
            # The owners hear of it by mail once the consent is committed (spiko.services.security_events).
            security_events.record(
                unit.session,
                user.investor_id,
                user.user_id,
                security_events.APP_AUTHORIZED,
                {"client_name": client.name, "client_id": client.client_id, "scope": scope},
                Origin.of(request),
                mailer=app_context(request).mailer,
            )
            return _authorization_response(server, oauth_request, grant_user, grant)
        if decision == "deny":
            return _authorization_response(server, oauth_request, None, grant)
        return _consent_page(
            request,
            user,
            client,
            scope,
            grant.redirect_uri,
            status_code=400,
            error=translate(request, "Choose Allow or Deny."),
        )

    code_ttl = server.settings.authorization_code_ttl_seconds
    return server.run(http, action)


def _this_request(request: Request) -> str:
    """The authorization request's own URL (path and query), to come back to after step-up."""
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def _authorization_response(
    server: AuthorizationServer, oauth_request: Any, grant_user: GrantUser | None, grant: Any
) -> Response:
    """The redirect back to the client: a code, or ``access_denied`` without a user."""
    answer: OAuthResponse = server.create_authorization_response(
        oauth_request, grant_user=grant_user, grant=grant
    )
    return to_response(answer)


def _consent_page(
    request: Request,
    user: SignedInUser,
    client: Any,
    scope: str,
    redirect_uri: str,
    *,
    status_code: int = 200,
    error: str | None = None,
) -> Response:
    from urllib.parse import urlsplit

    return render(
        request,
        "consent.html",
        status_code=status_code,
        user=user,
        client_name=client.name,
        client_id=client.client_id,
        scopes=sorted(scopes.scope_set(scope)),
        access=api_scopes.describe(scope),  # empty: full access
        # What the grant will reach once limited by the member's role (spiko.auth.roles); empty: no limit.
        role_limit=[]
        if roles.reach(user.role) is None
        else api_scopes.describe(" ".join(roles.allowed_scopes(user.role)[1:])),
        descriptions=scopes.describe(scope),
        redirect_host=urlsplit(redirect_uri).netloc or redirect_uri,
        action="/oauth2/auth" + (f"?{request.url.query}" if request.url.query else ""),
        error=error,
    )


@router.get("/oauth2/auth")
async def authorize(request: Request) -> Response:
    server = _server(request)
    http = await read_request(request, server.settings.issuer)
    return await run_in_threadpool(_authorize, server, request, http, None)


@router.post("/oauth2/auth")
async def authorize_decision(request: Request) -> Response:
    """The consent form posts back here, to the same URL, with ``decision`` and ``csrf_token``."""
    server = _server(request)
    http = await read_request(request, server.settings.issuer, params_from="query")
    return await run_in_threadpool(_authorize, server, request, http, first_values(http.form))


# -- RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) ----------------------------------


def _logout(server: AuthorizationServer, request: Request, http: HttpRequest) -> Response:
    server.keys.ensure_signing_key(server.ctx)

    def action(unit: UnitOfWork) -> Response:
        user = current_user(unit.session, request)
        try:
            validated = server.validate_endpoint_request("end_session", http)
        except OAuth2Error as error:
            return _error_page(request, error)
        hinted = (validated.id_token_claims or {}).get("sub")
        if validated.needs_confirmation or (user is not None and hinted != user.user_id):
            # Without a valid id_token_hint the request may come from anyone, and with someone
            # else's it comes from an app that investor used, not this one: ask the user.
            return render(request, "oauth_logout.html", user=user, signed_out=user is None)
        answer: OAuthResponse | None = server.create_endpoint_response("end_session", validated)
        response: Response
        if answer is None:
            response = render(request, "oauth_logout.html", user=None, signed_out=True)
        else:
            response = to_response(answer)
        if unit.ended_session:
            end_session(unit.session, request, response)
        return response

    return server.run(http, action)


@router.get("/oauth2/sessions/logout")
async def logout(request: Request) -> Response:
    server = _server(request)
    http = await read_request(request, server.settings.issuer)
    return await run_in_threadpool(_logout, server, request, http)


def _confirm_logout(server: AuthorizationServer, request: Request, csrf_token: str | None) -> Response:
    if not csrf_valid(request, csrf_token):
        return csrf_refused(request)
    response = render(request, "oauth_logout.html", user=None, signed_out=True)
    with server.ctx.transaction() as session:
        end_session(session, request, response)
    return response


@router.post("/oauth2/sessions/logout")
async def confirm_logout(request: Request) -> Response:
    server = _server(request)
    http = await read_request(request, server.settings.issuer)
    csrf_token = first_values(http.form).get("csrf_token")
    return await run_in_threadpool(_confirm_logout, server, request, csrf_token)
