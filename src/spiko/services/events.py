"""The events outbox: every state change integrators care about, written in the change's transaction.

``record`` is the one place an event is made. Services call it inside the transaction that makes
the change; the event is written when that transaction commits (a ``before_commit`` hook), so a
change is never committed without its event nor an event without its change. At that moment each
investor's events are numbered (``sequence``, from 1, without gaps) under a row lock on the
investor's counter, taken in investor order and only at commit: a transaction holds those locks
for the time of its commit, after every other lock it takes, so two transactions never wait on
each other in a cycle. One delivery is queued per enabled webhook endpoint of the investor that
subscribes to the type, in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from spiko.db.models.identity import Investor
from spiko.db.models.webhooks import Event, EventCounter, WebhookDelivery, WebhookEndpoint
from spiko.db.types import new_id, utcnow
from spiko.domain.cursor import Cursor
from spiko.errors import NotFoundError

_PENDING = "spiko.pending_events"

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
    "statement.available",
    "api_key.created",
    "api_key.revoked",
    "app.authorized",
    "app.revoked",
    "webhook_endpoint.disabled",
)


def _next_sequences(session: Session, counts: dict[str, int]) -> dict[str, int]:
    """Take each investor's next ``counts[investor]`` numbers (returns each one's last): upserts of
    many counters per statement, in investor order (so the row locks are taken in that order)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    investors = sorted(counts)
    lasts: dict[str, int] = {}
    for start in range(0, len(investors), 500):
        chunk = investors[start : start + 500]
        values = insert(EventCounter).values([{"investor_id": i, "last": counts[i]} for i in chunk])
        statement = values.on_conflict_do_update(
            index_elements=["investor_id"], set_={"last": EventCounter.last + values.excluded.last}
        ).returning(EventCounter.investor_id, EventCounter.last)
        lasts.update((investor_id, int(last)) for investor_id, last in session.execute(statement))
    return lasts


def record(
    session: Session,
    investor_id: str,
    type_: str,
    data: Any,
    *,
    dedupe_key: str | None = None,
) -> Event | None:
    """An event of the caller's transaction, written (numbered, with its deliveries) when it commits.

    With ``dedupe_key``, an event already recorded for the investor under that key is not
    recorded again (returns None): a day's yield is booked once however often it is computed.
    """
    if type_ not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type_!r}")
    pending: list[Event] = session.info.setdefault(_PENDING, [])
    if dedupe_key is not None:
        if any(item.investor_id == investor_id and item.dedupe_key == dedupe_key for item in pending):
            return None
        seen = session.scalar(
            select(Event.id).where(Event.investor_id == investor_id, Event.dedupe_key == dedupe_key)
        )
        if seen is not None:
            return None
    made = Event(id=new_id(), investor_id=investor_id, type=type_, data=dict(data), dedupe_key=dedupe_key)
    pending.append(made)
    return made


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    pending: list[Event] = session.info.pop(_PENDING, [])
    if not pending:
        return
    now = utcnow()
    by_investor: dict[str, list[Event]] = {}
    for item in pending:
        by_investor.setdefault(item.investor_id, []).append(item)
    endpoints: dict[str, list[WebhookEndpoint]] = {}
    for row in session.scalars(
        select(WebhookEndpoint).where(
            WebhookEndpoint.investor_id.in_(list(by_investor)), WebhookEndpoint.enabled.is_(True)
        )
    ):
        endpoints.setdefault(row.investor_id, []).append(row)
    lasts = _next_sequences(session, {investor_id: len(items) for investor_id, items in by_investor.items()})
    for investor_id in sorted(by_investor):
        items = by_investor[investor_id]
        last = lasts[investor_id]
        for offset, item in enumerate(items):
            item.sequence = last - len(items) + 1 + offset
            item.created_at = now
            session.add(item)
            for endpoint in endpoints.get(investor_id, []):
                if endpoint.event_types is None or item.type in endpoint.event_types:
                    session.add(
                        WebhookDelivery(
                            id=new_id(), endpoint_id=endpoint.id, event_id=item.id, next_attempt_at=now
                        )
                    )
    session.flush()


@event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


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
    """The investor's events in ``sequence`` order (commit order), newest first by default; keyset-paged."""
    query = select(Event).where(Event.investor_id == investor_id)
    if types:
        query = query.where(Event.type.in_(types))
    if created_after is not None:
        query = query.where(Event.created_at >= created_after)
    if created_before is not None:
        query = query.where(Event.created_at < created_before)
    if cursor is not None:
        after = _cursor_sequence(cursor)
        query = query.where(Event.sequence < after if direction == "desc" else Event.sequence > after)
    query = query.order_by(Event.sequence.desc() if direction == "desc" else Event.sequence)
    rows = list(session.scalars(query.limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    last = Cursor(rows[-1].created_at, f"{rows[-1].sequence:012d}", direction) if more and rows else None
    return EventPage(rows, last)


def _cursor_sequence(cursor: Cursor) -> int:
    try:
        return int(cursor.item_id)
    except ValueError:
        raise NotFoundError("Event not found") from None  # unreachable: cursors are signed


def get_event(session: Session, investor_id: str, event_id: str) -> Event:
    event = session.get(Event, event_id)
    if event is None or event.investor_id != investor_id:
        raise NotFoundError("Event not found")
    return event
