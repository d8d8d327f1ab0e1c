"""Idempotency-Key on POST: the same key and the same request act once and answer the same.

How it holds under concurrent retries: the key's row is inserted at the *start* of the request's
write transaction, before the action runs, and its stored response is written at the end of
that same transaction. A concurrent request with the same key blocks on the unique constraint
(PostgreSQL) or on the write lock (SQLite) until the first one commits, then fails to insert,
rolls back everything it did, and reads the stored response instead. If the first request
fails, its transaction (row included) rolls back and the key is free again: errors are not
stored, and nothing was done.

Keys are scoped per investor and expire after 24 hours; the same key with a different method,
path or body is refused with a 409 ``ConflictError``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from spiko.db.models.idempotency import IdempotencyKey
from spiko.db.types import utcnow
from spiko.errors import ConflictError

if TYPE_CHECKING:
    from spiko.context import AppContext

KEY_TTL = timedelta(hours=24)
MIN_KEY_LENGTH = 8
MAX_KEY_LENGTH = 255
# Enough for a few losers of a race to read the winner's response; each attempt is one transaction.
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Outcome:
    status: int
    body: Any
    replayed: bool


def fingerprint(method: str, path: str, payload: Any) -> str:
    canonical = json.dumps(
        {"method": method.upper(), "path": path.rstrip("/") or "/", "body": payload},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def run_once(
    ctx: AppContext,
    *,
    investor_id: str,
    key: str | None,
    method: str,
    path: str,
    payload: Any,
    action: Callable[[Session], Any],
    status: int = 200,
) -> Outcome:
    """Run ``action`` in one write transaction, at most once per (investor, key)."""
    if key is None:
        with ctx.transaction() as session:
            return Outcome(status, action(session), replayed=False)
    request_hash = fingerprint(method, path, payload)
    for _ in range(MAX_ATTEMPTS):
        try:
            with ctx.transaction() as session:
                stored = _stored(session, investor_id, key, request_hash)
                if stored is not None:
                    return stored
                row = IdempotencyKey(
                    investor_id=investor_id,
                    key=key,
                    request_hash=request_hash,
                    method=method.upper(),
                    path=path[:300],
                    response_status=0,
                    response_body="",
                    expires_at=utcnow() + KEY_TTL,
                )
                session.add(row)
                session.flush()  # claims the key (or waits for / fails against the request that has it)
                body = action(session)
                row.response_status = status
                row.response_body = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
                session.flush()
                return Outcome(status, body, replayed=False)
        except IntegrityError:
            continue  # another request holds or has just stored the key: read its response
    raise ConflictError("a request with this Idempotency-Key is still in progress; retry later")


def _stored(session: Session, investor_id: str, key: str, request_hash: str) -> Outcome | None:
    row = session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.investor_id == investor_id, IdempotencyKey.key == key)
    )
    if row is None:
        return None
    if row.expires_at <= utcnow():
        session.delete(row)
        session.flush()
        return None
    if row.request_hash != request_hash:
        raise ConflictError(
            "this Idempotency-Key was already used with a different request; use a new key for a new request"
        )
    return Outcome(row.response_status, json.loads(row.response_body), replayed=True)


def purge_expired(session: Session) -> int:
    """Delete every expired key (operators' jobs call it; a lookup also ignores expired keys)."""
    result = session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at <= utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)
