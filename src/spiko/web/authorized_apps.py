"""The investor app's page of authorized apps: which apps hold access, and revoking one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from spiko.auth.oauth import consent, tokens
from spiko.auth.oauth.runtime import oauth_server
from spiko.auth.sessions import SignedInUser
from spiko.services import security_events
from spiko.services.security_events import Origin
from spiko.web.rendering import render, translate
from spiko.web.routes import app_context, signed_in, signed_in_form, to_login

router = APIRouter(include_in_schema=False)


def _page(
    request: Request,
    user: SignedInUser,
    *,
    status_code: int = 200,
    notice: str | None = None,
    error: str | None = None,
) -> Response:
    with app_context(request).transaction(write=False) as session:
        apps = consent.authorized_apps(session, user.investor_id)
    return render(
        request,
        "authorized_apps.html",
        status_code=status_code,
        user=user,
        apps=apps,
        notice=notice,
        error=error,
    )


@router.get("/authorized-apps")
def authorized_apps(request: Request) -> Response:
    user = signed_in(request)
    if user is None:
        return to_login(request)
    return _page(request, user)


@router.post("/authorized-apps")
def revoke_authorized_app(
    request: Request,
    client_id: Annotated[str, Form(max_length=64)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    user = signed_in_form(request, csrf_token)
    if isinstance(user, Response):
        return user
    ctx = app_context(request)
    with ctx.transaction() as session:
        apps = {app.client_id: app for app in consent.authorized_apps(session, user.investor_id)}
        app = apps.get(client_id)
        if app is not None:
            tokens.revoke_app_access(session, investor_id=user.investor_id, client_pk=app.client_pk)
            security_events.record(
                session,
                user.investor_id,
                user.user_id,
                security_events.APP_REVOKED,
                {"client_name": app.name, "client_id": app.client_id},
                Origin.of(request),
            )
    if app is None:
        return _page(
            request, user, status_code=404, error=translate(request, "This app has no access to revoke.")
        )
    # Every token of the revoked grants stops working in this process now, in the others within a second.
    oauth_server(ctx).access_tokens.clear()
    return _page(
        request,
        user,
        notice=translate(request, "“%(app)s” no longer has access to your account.", app=app.name),
    )
