"""Events and webhook endpoints (extensions beyond the reference: in ``/openapi.json`` only)."""

from __future__ import annotations

from typing import Any, TypedDict

from spiko.db.models.webhooks import Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from spiko.presenters.formats import timestamp


class EventBody(TypedDict):
    id: str
    type: str
    createdAt: str
    sequence: int
    data: dict[str, Any]


class EventsPageBody(TypedDict):
    data: list[EventBody]
    nextCursor: str | None


class WebhookEndpointBody(TypedDict):
    id: str
    url: str
    description: str
    eventTypes: list[str] | None
    enabled: bool
    disabledReason: str | None
    createdAt: str
    updatedAt: str


class CreatedWebhookEndpointBody(WebhookEndpointBody):
    secret: str


class AttemptBody(TypedDict):
    attemptedAt: str
    statusCode: int | None
    latencyMs: int
    responseExcerpt: str
    error: str | None


class DeliveryBody(TypedDict):
    id: str
    eventId: str
    eventType: str
    status: str
    attempts: int
    nextAttemptAt: str | None
    deliveredAt: str | None
    createdAt: str
    log: list[AttemptBody]


class DeliveriesPageBody(TypedDict):
    data: list[DeliveryBody]
    nextCursor: str | None


def event(row: Event) -> EventBody:
    return {
        "id": row.id,
        "type": row.type,
        "createdAt": timestamp(row.created_at),
        "sequence": row.sequence,
        "data": row.data,
    }


def events_page(rows: list[Event], next_cursor: str | None) -> EventsPageBody:
    return {"data": [event(row) for row in rows], "nextCursor": next_cursor}


def webhook_endpoint(row: WebhookEndpoint) -> WebhookEndpointBody:
    return {
        "id": row.id,
        "url": row.url,
        "description": row.description,
        "eventTypes": row.event_types,
        "enabled": row.enabled,
        "disabledReason": row.disabled_reason,
        "createdAt": timestamp(row.created_at),
        "updatedAt": timestamp(row.updated_at),
    }


def created_webhook_endpoint(row: WebhookEndpoint, secret: str) -> CreatedWebhookEndpointBody:
    return {**webhook_endpoint(row), "secret": secret}


def attempt(row: WebhookAttempt) -> AttemptBody:
    return {
        "attemptedAt": timestamp(row.attempted_at),
        "statusCode": row.status_code,
        "latencyMs": row.latency_ms,
        "responseExcerpt": row.response_excerpt,
        "error": row.error,
    }


def delivery(row: WebhookDelivery, event_type: str, attempts: list[WebhookAttempt]) -> DeliveryBody:
    return {
        "id": row.id,
        "eventId": row.event_id,
        "eventType": event_type,
        "status": row.status,
        "attempts": row.attempts,
        "nextAttemptAt": timestamp(row.next_attempt_at) if row.status == "pending" else None,
        "deliveredAt": timestamp(row.delivered_at),
        "createdAt": timestamp(row.created_at),
        "log": [attempt(item) for item in attempts],
    }
