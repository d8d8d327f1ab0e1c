"""The investor app's webhooks page (``/settings/webhooks``): endpoints, their secrets, their log.

The same services as ``/v1/webhook-endpoints``; the secret is shown once, on the page that
answers its creation or rotation (never cached).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from spiko.auth.sessions import SignedInUser
from spiko.errors import ApiError
from spiko.i18n import N_
from spiko.services import events, webhooks
from spiko.web.rendering import render, translate
from spiko.web.routes import app_context, signed_in, signed_in_form, to_login

router = APIRouter(include_in_schema=False)

PATH = "/settings/webhooks"
LOG_LENGTH = 10


def _page(
    request: Request,
    user: SignedInUser,
    *,
    status_code: int = 200,
    secret: tuple[str, str] | None = None,
    notice: str | None = None,
    error: str | None = None,
    form: dict[str, Any] | None = None,
) -> Response:
    with app_context(request).transaction(write=False) as session:
        endpoints = []
        for endpoint in webhooks.list_endpoints(session, user.investor_id):
            log, _ = webhooks.list_deliveries(
                session, investor_id=user.investor_id, endpoint_id=endpoint.id, cursor=None, limit=LOG_LENGTH
            )
            endpoints.append((endpoint, log))
    return render(
        request,
        "settings_webhooks.html",
        status_code=status_code,
        headers={"Cache-Control": "no-store"} if secret else None,
        user=user,
        endpoints=endpoints,
        event_types=events.EVENT_TYPES,
        secret=secret,
        notice=notice,
        error=error,
        form=form or {},
    )


@router.get(PATH)
def webhooks_page(request: Request) -> Response:
    user = signed_in(request)
    if user is None:
        return to_login(request)
    return _page(request, user)


@router.post(PATH)
def change_webhooks(
    request: Request,
    action: Annotated[str, Form(max_length=20)] = "",
    endpoint_id: Annotated[str, Form(max_length=64)] = "",
    url: Annotated[str, Form(max_length=4096)] = "",
    description: Annotated[str, Form(max_length=4096)] = "",
    event_types: Annotated[list[str] | None, Form(max_length=100)] = None,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """``action`` is ``create`` (url, description, event_types: none ticked means every type),
    ``rotate``, ``delete``, ``enable`` or ``disable`` (endpoint_id)."""
    user = signed_in_form(request, csrf_token)
    if isinstance(user, Response):
        return user
    ctx = app_context(request)
    try:
        if action == "create":
            chosen = event_types or None
            webhooks.check_description(description)
            webhooks.check_event_types(chosen)
            webhooks.check_url(url, allow_private=ctx.settings.webhook_allow_private_networks)
            with ctx.transaction() as session:
                endpoint, secret = webhooks.create_endpoint(
                    session,
                    secret_key=ctx.settings.secret_key,
                    investor_id=user.investor_id,
                    url=url,
                    event_types=chosen,
                    description=description,
                )
            return _page(request, user, secret=(endpoint.url, secret))
        with ctx.transaction() as session:
            if action == "rotate":
                endpoint, secret = webhooks.rotate_secret(
                    session,
                    secret_key=ctx.settings.secret_key,
                    investor_id=user.investor_id,
                    endpoint_id=endpoint_id,
                )
                shown = (endpoint.url, secret)
            elif action == "delete":
                webhooks.delete_endpoint(session, user.investor_id, endpoint_id)
                shown = None
            elif action in ("enable", "disable"):
                webhooks.update_endpoint(
                    session, investor_id=user.investor_id, endpoint_id=endpoint_id, enabled=action == "enable"
                )
                shown = None
            else:
                return _page(request, user, status_code=400, error=translate(request, "Unknown action."))
    except ApiError as refused:
        status = refused.status if refused.status in (400, 404) else 400
        message = str(refused.fields.get("reason") or refused.fields.get("message") or refused)
        return _page(
            request,
            user,
            status_code=status,
            error=message,
            form={"url": url, "description": description, "event_types": event_types or []},
        )
    if shown is not None:
        return _page(request, user, secret=shown)
    notice = {"delete": N_("The endpoint was deleted."), "enable": N_("The endpoint is enabled.")}.get(
        action, N_("The endpoint is disabled.")
    )
    return _page(request, user, notice=translate(request, notice))
