"""The events outbox: every state change integrators care about, written in the change's transaction.

``record`` is the one place an event is written. Services call it inside the transaction that
makes the change, so a change is never committed without its event nor an event without its
change. It numbers the investor's events (``sequence``, from 1, without gaps in commit order of
each investor's writers, who serialize on the investor's counter row) and queues one delivery
per enabled webhook endpoint of the investor subscribed to the type, in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from spiko.db.models.identity import Investor
from spiko.db.models.webhooks import Event, EventCounter, WebhookDelivery, WebhookEndpoint
from spiko.db.types import utcnow
from spiko.domain.cursor import Cursor
from spiko.errors import NotFoundError

EVENT_TYPES: tuple[str, ...] = (
    "deposit_order.created",
    "deposit_order.funded",
    "deposit_order.executed",
    "deposit_order.canceled",
    "withdrawal_order.created",
    "withdrawal_order.executed",
    "withdrawal_order.canceled",
    "transfer_order.created",
    "transfer_order.executed",
    "transfer_order.canceled",
    "nav.published",
    "yield.booked",
    "api_key.created",
    "api_key.revoked",
    "app.authorized",
    "app.revoked",
    "webhook_endpoint.disabled",
)


def _next_sequence(session: Session, investor_id: str) -> int:
    """Take the investor's next number: an upsert that row-locks the counter until commit."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(EventCounter)
        .values(investor_id=investor_id, last=1)
        .on_conflict_do_update(index_elements=["investor_id"], set_={"last": EventCounter.last + 1})
        .returning(EventCounter.last)
    )
    return int(session.execute(statement).scalar_one())


def record(
    session: Session,
    investor_id: str,
    type_: str,
    data: Any,
    *,
    dedupe_key: str | None = None,
) -> Event | None:
    """Write one event (and its deliveries) in the caller's transaction.

    With ``dedupe_key``, an event already recorded for the investor under that key is not
    recorded again (returns None): a day's yield is booked once however often it is computed.
    """
    if type_ not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type_!r}")
    if dedupe_key is not None:
        seen = session.scalar(
            select(Event.id).where(Event.investor_id == investor_id, Event.dedupe_key == dedupe_key)
        )
        if seen is not None:
            return None
    event = Event(
        investor_id=investor_id,
        sequence=_next_sequence(session, investor_id),
        type=type_,
        data=dict(data),
        dedupe_key=dedupe_key,
        created_at=utcnow(),
    )
    session.add(event)
    session.flush()
    endpoints = session.scalars(
        select(WebhookEndpoint).where(
            WebhookEndpoint.investor_id == investor_id, WebhookEndpoint.enabled.is_(True)
        )
    ).all()
    for endpoint in endpoints:
        if endpoint.event_types is None or type_ in endpoint.event_types:
            session.add(
                WebhookDelivery(endpoint_id=endpoint.id, event_id=event.id, next_attempt_at=event.created_at)
            )
    session.flush()
    return event


def record_for_every_investor(session: Session, type_: str, data: Any) -> int:
    """One event per investor (market data such as a published NAV); returns how many."""
    investor_ids = session.scalars(select(Investor.id).order_by(Investor.id)).all()
    for investor_id in investor_ids:
        record(session, investor_id, type_, data)
    return len(investor_ids)


# --- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventPage:
    events: list[Event]
    last: Cursor | None  # the cursor of the page's last event when more may follow


def list_events(
    session: Session,
    investor_id: str,
    *,
    cursor: Cursor | None,
    direction: str,
    limit: int,
    types: list[str] | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
) -> EventPage:
    """The investor's events by (createdAt, id), newest first by default; keyset-paged."""
    query = select(Event).where(Event.investor_id == investor_id)
    if types:
        query = query.where(Event.type.in_(types))
    if created_after is not None:
        query = query.where(Event.created_at >= created_after)
    if created_before is not None:
        query = query.where(Event.created_at < created_before)
    if cursor is not None:
        if direction == "desc":
            query = query.where(
                or_(
                    Event.created_at < cursor.timestamp,
                    and_(Event.created_at == cursor.timestamp, Event.id < cursor.item_id),
                )
            )
        else:
            query = query.where(
                or_(
                    Event.created_at > cursor.timestamp,
                    and_(Event.created_at == cursor.timestamp, Event.id > cursor.item_id),
                )
            )
    if direction == "desc":
        query = query.order_by(Event.created_at.desc(), Event.id.desc())
    else:
        query = query.order_by(Event.created_at, Event.id)
    rows = list(session.scalars(query.limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    last = Cursor(rows[-1].created_at, rows[-1].id, direction) if more and rows else None
    return EventPage(rows, last)


def get_event(session: Session, investor_id: str, event_id: str) -> Event:
    event = session.get(Event, event_id)
    if event is None or event.investor_id != investor_id:
        raise NotFoundError("Event not found")
    return event
