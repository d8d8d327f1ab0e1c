"""Webhook endpoints (an extension beyond the reference, in ``/openapi.json`` only).

An endpoint receives the investor's events, signed per Standard Webhooks; see docs/webhooks.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import Field

from spiko.api.deps import Context, CurrentPrincipal, ReadSession
from spiko.api.routing import PresentedRoute
from spiko.api.v1.events import cursor_key
from spiko.api.v1.inputs import StrictModel
from spiko.domain.cursor import InvalidCursor, decode_cursor, encode_cursor
from spiko.errors import HttpApiDecodeError
from spiko.presenters.events import (
    CreatedWebhookEndpointBody,
    DeliveriesPageBody,
    WebhookEndpointBody,
    created_webhook_endpoint,
    delivery,
    webhook_endpoint,
)
from spiko.services import webhooks as service

router = APIRouter(tags=["Webhook Endpoints"], route_class=PresentedRoute)

EndpointId = Annotated[str, Path(alias="endpointId", max_length=64)]
# Generous caps here; the service's own limits answer with tagged errors that say what is allowed.
UrlText = Annotated[str, Field(max_length=8192)]
DescriptionText = Annotated[str, Field(max_length=8192)]
EventTypeList = Annotated[list[Annotated[str, Field(max_length=100)]], Field(max_length=100)]


class CreateEndpoint(StrictModel):
    url: UrlText
    eventTypes: EventTypeList | None = None
    description: DescriptionText = ""


class UpdateEndpoint(StrictModel):
    url: UrlText | None = None
    eventTypes: EventTypeList | None = None
    description: DescriptionText | None = None
    enabled: bool | None = None


class Redelivery(StrictModel):
    eventId: Annotated[str, Field(max_length=64)] | None = None
    since: datetime | None = None


@router.post(
    "/webhook-endpoints",
    operation_id="webhookEndpoints.create",
    summary="Create a webhook endpoint",
    description="`eventTypes` omitted: every type. The answer carries the signing `secret` "
    "(`whsec_…`), shown this once.",
)
def create_endpoint(
    body: CreateEndpoint, principal: CurrentPrincipal, ctx: Context
) -> CreatedWebhookEndpointBody:
    settings = ctx.settings
    service.check_description(body.description)
    service.check_event_types(body.eventTypes)
    service.check_url(body.url, allow_private=settings.webhook_allow_private_networks)
    with ctx.transaction() as session:
        endpoint, secret = service.create_endpoint(
            session,
            secret_key=settings.secret_key,
            investor_id=principal.investor_id,
            url=body.url,
            event_types=body.eventTypes,
            description=body.description,
        )
        return created_webhook_endpoint(endpoint, secret)


@router.get("/webhook-endpoints", operation_id="webhookEndpoints.list", summary="List webhook endpoints")
def list_endpoints(principal: CurrentPrincipal, session: ReadSession) -> list[WebhookEndpointBody]:
    return [webhook_endpoint(row) for row in service.list_endpoints(session, principal.investor_id)]


@router.get(
    "/webhook-endpoints/{endpointId}", operation_id="webhookEndpoints.get", summary="Get a webhook endpoint"
)
def get_endpoint(
    principal: CurrentPrincipal, session: ReadSession, endpoint_id: EndpointId
) -> WebhookEndpointBody:
    return webhook_endpoint(service.get_endpoint(session, principal.investor_id, endpoint_id))


@router.patch(
    "/webhook-endpoints/{endpointId}",
    operation_id="webhookEndpoints.update",
    summary="Update a webhook endpoint",
    description="Changes the fields given; `eventTypes: null` subscribes to every type; "
    "`enabled: true` turns a disabled endpoint back on: deliveries still pending resume; events "
    "recorded while it was disabled were not queued for it (redeliver them with `since`).",
)
def update_endpoint(
    body: UpdateEndpoint, principal: CurrentPrincipal, ctx: Context, endpoint_id: EndpointId
) -> WebhookEndpointBody:
    if body.description is not None:
        service.check_description(body.description)
    if "eventTypes" in body.model_fields_set:
        service.check_event_types(body.eventTypes)
    if body.url is not None:
        service.check_url(body.url, allow_private=ctx.settings.webhook_allow_private_networks)
    changes: dict[str, object] = {}
    if "eventTypes" in body.model_fields_set:
        changes["event_types"] = body.eventTypes
    with ctx.transaction() as session:
        endpoint = service.update_endpoint(
            session,
            investor_id=principal.investor_id,
            endpoint_id=endpoint_id,
            url=body.url,
            description=body.description,
            enabled=body.enabled,
            **changes,  # type: ignore[arg-type]
        )
        return webhook_endpoint(endpoint)


@router.delete(
    "/webhook-endpoints/{endpointId}",
    operation_id="webhookEndpoints.delete",
    summary="Delete a webhook endpoint",
    status_code=204,
)
def delete_endpoint(principal: CurrentPrincipal, ctx: Context, endpoint_id: EndpointId) -> Response:
    with ctx.transaction() as session:
        service.delete_endpoint(session, principal.investor_id, endpoint_id)
    return Response(status_code=204)


@router.post(
    "/webhook-endpoints/{endpointId}/rotate-secret",
    operation_id="webhookEndpoints.rotateSecret",
    summary="Rotate a webhook endpoint's secret",
    description="Answers the endpoint with its new `secret`; messages are signed with both the new "
    "and the previous secret for 24 hours.",
)
def rotate_secret(
    principal: CurrentPrincipal, ctx: Context, endpoint_id: EndpointId
) -> CreatedWebhookEndpointBody:
    with ctx.transaction() as session:
        endpoint, secret = service.rotate_secret(
            session,
            secret_key=ctx.settings.secret_key,
            investor_id=principal.investor_id,
            endpoint_id=endpoint_id,
        )
        return created_webhook_endpoint(endpoint, secret)


@router.post(
    "/webhook-endpoints/{endpointId}/redeliver",
    operation_id="webhookEndpoints.redeliver",
    summary="Deliver events again",
    description='`{"eventId": …}` queues one event again; `{"since": …}` every event since that '
    "time the endpoint subscribes to. Answers how many were queued.",
)
def redeliver(
    body: Redelivery, principal: CurrentPrincipal, ctx: Context, endpoint_id: EndpointId
) -> dict[str, int]:
    if body.since is not None and body.since.tzinfo is None:
        raise HttpApiDecodeError.single(["since"], "since needs a time zone (e.g. Z)", "Refinement")
    with ctx.transaction() as session:
        queued = service.redeliver(
            session,
            investor_id=principal.investor_id,
            endpoint_id=endpoint_id,
            event_id=body.eventId,
            since=body.since,
        )
    return {"queued": queued}


@router.get(
    "/webhook-endpoints/{endpointId}/deliveries",
    operation_id="webhookEndpoints.deliveries",
    summary="The delivery log of a webhook endpoint",
    description="Deliveries newest first, each with its attempts (status code, latency, the start of "
    "the response); pass `nextCursor` back as `cursor` for the next page.",
)
def list_deliveries(
    principal: CurrentPrincipal,
    session: ReadSession,
    ctx: Context,
    endpoint_id: EndpointId,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> DeliveriesPageBody:
    key = cursor_key(ctx.settings.secret_key, "webhook-deliveries")
    position = None
    if cursor is not None:
        try:
            position = decode_cursor(cursor, key=key, scope=endpoint_id)
        except InvalidCursor as error:
            raise HttpApiDecodeError.single(["cursor"], str(error), "Transformation") from None
    rows, last = service.list_deliveries(
        session, investor_id=principal.investor_id, endpoint_id=endpoint_id, cursor=position, limit=limit
    )
    return {
        "data": [delivery(row, type_, attempts) for row, type_, attempts in rows],
        "nextCursor": encode_cursor(last, key=key, scope=endpoint_id) if last else None,
    }
