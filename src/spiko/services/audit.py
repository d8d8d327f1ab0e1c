"""The audit trail: every operator action appends one record, in the action's own transaction.

Call :func:`record` inside the transaction that performs the action, after the action has
succeeded: the record commits with it, and an action that fails (or rolls back) leaves none.
The actor is the operator's identity: ``SPIKO_OPERATOR`` when set, else the OS user running
the command. The log is append-only (database triggers refuse UPDATE and DELETE).
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from spiko.db.models.audit import AuditRecord
from spiko.db.types import utcnow

OPERATOR_VARIABLE = "SPIKO_OPERATOR"
_ACTOR_LENGTH = 200
_SUBJECT_LENGTH = 255


def operator() -> str:
    """Who is acting: ``SPIKO_OPERATOR``, else the OS user (``unknown`` when neither is known)."""
    named = os.environ.get(OPERATOR_VARIABLE, "").strip()
    if named:
        return named[:_ACTOR_LENGTH]
    try:
        return getpass.getuser()[:_ACTOR_LENGTH]
    except (OSError, KeyError):  # no login name and no passwd entry (some containers)
        return "unknown"


def record(
    session: Session,
    *,
    action: str,
    subject: str,
    details: Mapping[str, Any] | None = None,
    actor: str | None = None,
) -> AuditRecord:
    """Append one record of ``action`` on ``subject`` to the audit log, in the caller's transaction.

    ``details`` holds the action's parameters and outcome, never a secret; decimals and days are
    stored as their text.
    """
    row = AuditRecord(
        at=utcnow(),
        actor=actor or operator(),
        action=action,
        subject=subject[:_SUBJECT_LENGTH],
        details={key: _json_ready(value) for key, value in (details or {}).items()},
    )
    session.add(row)
    session.flush()
    return row


def records(session: Session, since: date | None = None) -> Iterator[AuditRecord]:
    """Every record (from midnight UTC starting ``since``), oldest first, read in batches."""
    query = select(AuditRecord).order_by(AuditRecord.id)
    if since is not None:
        query = query.where(AuditRecord.at >= datetime.combine(since, time(0), tzinfo=UTC))
    yield from session.scalars(query.execution_options(yield_per=500))


def _json_ready(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): _json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_ready(item) for item in value]
    return value
