"""What every order use case shares: ownership checks, row locks, balances and execution times.

An account's holding of a share class is the sum of its ledger rows; what it may still
withdraw or transfer (its *available* balance) is that holding minus the shares reserved by
its pending withdrawal orders.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from spiko.db.base import Base
from spiko.db.models.funds import ShareClass
from spiko.db.models.ledger import ShareMovement
from spiko.db.models.orders import Account, WithdrawalOrder
from spiko.errors import BadRequestError, NotFoundError
from spiko.services import clock, reference, sums

ModelT = TypeVar("ModelT", bound=Base)

# Orders priced on a day other than the real current one are stamped at this time of that day,
# so that ``executed_at`` always falls on the day whose NAV priced them.
EXECUTION_TIME = time(17, 0, tzinfo=UTC)


def owned(session: Session, model: type[ModelT], object_id: str, investor_id: str, what: str) -> ModelT:
    """The object when it exists and belongs to the investor; else 404 (never 403: no oracle)."""
    row = session.get(model, object_id) if looks_like_id(object_id) else None
    if row is None or getattr(row, "investor_id", None) != investor_id:
        raise NotFoundError(f"{what} not found")
    return row


_ID_SHAPE = re.compile(r"[0-9A-Fa-f-]{1,36}")


def looks_like_id(value: str) -> bool:
    """Ids are UUID strings; anything else (a NUL byte PostgreSQL would reject, a 10 kB path
    segment) cannot name an object and is answered 404 without reaching the database."""
    return _ID_SHAPE.fullmatch(value) is not None


MAX_NAME_LENGTH = 255


def clean_name(name: str | None, what: str = "name") -> str | None:
    """A display name: trimmed, at most 255 characters, no control characters (None when empty)."""
    if name is None:
        return None
    name = name.strip()
    if not name:
        return None
    if len(name) > MAX_NAME_LENGTH:
        raise BadRequestError(f"{what} has at most {MAX_NAME_LENGTH} characters")
    if any(ord(char) < 32 or ord(char) == 127 for char in name):
        raise BadRequestError(f"{what} must not contain control characters")
    return name


def lock_accounts(session: Session, *account_ids: str) -> None:
    """Row-lock accounts (in id order, so two transactions never wait on each other crosswise).

    On PostgreSQL this serializes every change to the accounts' balances; SQLite's write
    transactions are already serialized (BEGIN IMMEDIATE) and ignore FOR UPDATE.
    """
    ids = sorted(set(account_ids))
    if ids:
        session.execute(select(Account.id).where(Account.id.in_(ids)).order_by(Account.id).with_for_update())


def exact_sum(session: Session, column: Any, *where: Any) -> Decimal:
    """SUM of an ExactDecimal column, exactly, on every database (see ``services.sums``)."""
    return sums.column_sum(session, column, *where)


def holdings(session: Session, account_id: str, share_class_id: str) -> Decimal:
    return exact_sum(
        session,
        ShareMovement.shares,
        ShareMovement.account_id == account_id,
        ShareMovement.share_class_id == share_class_id,
    )


def reserved(
    session: Session, account_id: str, share_class_id: str, *, excluding: str | None = None
) -> Decimal:
    """Shares held back by the account's pending withdrawal orders."""
    where = [
        WithdrawalOrder.account_id == account_id,
        WithdrawalOrder.share_class_id == share_class_id,
        WithdrawalOrder.status == "pending",
    ]
    if excluding is not None:
        where.append(WithdrawalOrder.id != excluding)
    return exact_sum(session, WithdrawalOrder.reserved_shares, *where)


def available(
    session: Session, account_id: str, share_class_id: str, *, excluding: str | None = None
) -> Decimal:
    return holdings(session, account_id, share_class_id) - reserved(
        session, account_id, share_class_id, excluding=excluding
    )


def today(session: Session) -> date:
    return clock.today(session)


def received_at(session: Session, day: date | None = None) -> datetime:
    """The receipt time of something happening now: the clock's instant, moved to ``day`` when
    the caller dates it on another day (at the same time of day)."""
    now = clock.now(session)
    if day is None or day == now.date():
        return now
    return datetime.combine(day, now.timetz())


def executed_at_for(session: Session, day: date) -> datetime:
    """The execution timestamp of an order priced on ``day``: the clock's now when ``day`` is its
    today, else 17:00 UTC of that day (so ``executed_at`` always falls on the day that priced it)."""
    now = clock.now(session)
    if now.date() == day:
        return now
    return datetime.combine(day, EXECUTION_TIME)


def share_class(session: Session, share_class_id: str) -> ShareClass:
    if not looks_like_id(share_class_id):
        raise NotFoundError("Share class not found")
    return reference.get_share_class(session, share_class_id)
