"""Events (an extension beyond the reference, in ``/openapi.json`` only): what changed, in order."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from spiko.api.deps import Context, CurrentPrincipal, ReadSession
from spiko.api.routing import PresentedRoute
from spiko.domain.cursor import InvalidCursor, decode_cursor, encode_cursor
from spiko.errors import HttpApiDecodeError
from spiko.presenters.events import EventBody, EventsPageBody, event, events_page
from spiko.services import events as service

router = APIRouter(tags=["Events"], route_class=PresentedRoute)

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def cursor_key(secret_key: str, listing: str) -> bytes:
    return hashlib.sha256(f"spiko/{listing}-cursor\x00".encode() + secret_key.encode()).digest()


@router.get(
    "/events",
    operation_id="events.list",
    summary="List events",
    description="The investor's events, newest first (or oldest first with `direction=asc`), "
    "`limit` per page; pass `nextCursor` back as `cursor` for the next page. `type` may be "
    "repeated; `createdAfter` (inclusive) and `createdBefore` (exclusive) bound the time.",
)
def list_events(
    principal: CurrentPrincipal,
    session: ReadSession,
    ctx: Context,
    type: Annotated[list[str] | None, Query()] = None,  # noqa: A002
    createdAfter: datetime | None = None,
    createdBefore: datetime | None = None,
    direction: Literal["asc", "desc"] = "desc",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> EventsPageBody:
    for bound, name in ((createdAfter, "createdAfter"), (createdBefore, "createdBefore")):
        if bound is not None and bound.tzinfo is None:
            raise HttpApiDecodeError.single([name], f"{name} needs a time zone (e.g. Z)", "Refinement")
    if type:
        unknown = sorted(set(type) - set(service.EVENT_TYPES))
        if unknown:
            raise HttpApiDecodeError.single(
                ["type"], f"unknown event type(s): {', '.join(unknown)}", "Refinement"
            )
    key = cursor_key(ctx.settings.secret_key, "events")
    scope = "|".join(
        [
            principal.investor_id,
            ",".join(sorted(type or [])),
            createdAfter.isoformat() if createdAfter else "",
            createdBefore.isoformat() if createdBefore else "",
        ]
    )
    position = None
    if cursor is not None:
        try:
            position = decode_cursor(cursor, key=key, scope=scope)
        except InvalidCursor as error:
            raise HttpApiDecodeError.single(["cursor"], str(error), "Transformation") from None
        if position.direction != direction:
            raise HttpApiDecodeError.single(
                ["cursor"], "the cursor was issued for the other direction", "Refinement"
            )
    page = service.list_events(
        session,
        principal.investor_id,
        cursor=position,
        direction=direction,
        limit=limit,
        types=type,
        created_after=createdAfter,
        created_before=createdBefore,
    )
    next_cursor = encode_cursor(page.last, key=key, scope=scope) if page.last else None
    return events_page(page.events, next_cursor)


@router.get("/events/{eventId}", operation_id="events.get", summary="Get an event")
def get_event(
    principal: CurrentPrincipal,
    session: ReadSession,
    event_id: Annotated[str, Path(alias="eventId", max_length=64)],
) -> EventBody:
    return event(service.get_event(session, principal.investor_id, event_id))
