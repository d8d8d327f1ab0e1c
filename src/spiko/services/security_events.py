"""An investor's security activity (the ``/activity`` page), and the notices mailed to its owners.

``record`` writes one event in the caller's transaction; for the kinds in ``NOTIFY_OWNERS`` it
also queues a mail to every owner of the investor, sent once that transaction commits
(``spiko.mail.send_after_commit``), so a rolled-back change neither shows nor mails anything.
Details name things (a key's name, an app's name, a factor's kind); they never hold a secret.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from spiko.db.models.identity import User
from spiko.db.models.members import SecurityEvent
from spiko.db.types import utcnow
from spiko.i18n import N_
from spiko.mail import Mailer, Message, send_after_commit

# The kinds of event, with the words the activity page uses for each.
SIGN_IN = "sign_in"
SIGN_IN_FAILED = "sign_in_failed"
SIGN_OUT = "sign_out"
SESSIONS_ENDED = "sessions_ended"
FACTOR_ADDED = "factor_added"
FACTOR_REMOVED = "factor_removed"
API_KEY_CREATED = "api_key_created"
API_KEY_REVOKED = "api_key_revoked"
APP_AUTHORIZED = "app_authorized"
APP_REVOKED = "app_revoked"
MEMBER_INVITED = "member_invited"
MEMBER_JOINED = "member_joined"
MEMBER_ROLE_CHANGED = "member_role_changed"
MEMBER_REMOVED = "member_removed"
INVITATION_CANCELED = "invitation_canceled"
PASSWORD_RESET_REQUESTED = "password_reset_requested"  # noqa: S105 - a kind of event
PASSWORD_CHANGED = "password_changed"  # noqa: S105 - a kind of event
EMAIL_VERIFIED = "email_verified"
BANK_ACCOUNT_ADDED = "bank_account_added"
BANK_ACCOUNT_REMOVED = "bank_account_removed"

KINDS: dict[str, str] = {
    SIGN_IN: N_("Signed in"),
    SIGN_IN_FAILED: N_("Failed sign-in attempt"),
    SIGN_OUT: N_("Signed out"),
    SESSIONS_ENDED: N_("Sessions ended"),
    FACTOR_ADDED: N_("Second factor added"),
    FACTOR_REMOVED: N_("Second factor removed"),
    API_KEY_CREATED: N_("API key created"),
    API_KEY_REVOKED: N_("API key revoked"),
    APP_AUTHORIZED: N_("App authorized"),
    APP_REVOKED: N_("App access revoked"),
    MEMBER_INVITED: N_("Member invited"),
    MEMBER_JOINED: N_("Member joined"),
    MEMBER_ROLE_CHANGED: N_("Member's role changed"),
    MEMBER_REMOVED: N_("Member removed"),
    INVITATION_CANCELED: N_("Invitation canceled"),
    PASSWORD_RESET_REQUESTED: N_("Password reset requested"),
    PASSWORD_CHANGED: N_("Password changed"),
    EMAIL_VERIFIED: N_("Email address verified"),
    BANK_ACCOUNT_ADDED: N_("Bank account added (withdrawal destination)"),
    BANK_ACCOUNT_REMOVED: N_("Bank account removed"),
}

# A sign-in is mailed to the owners only when it comes from a new device (details["new_device"]).
# A new withdrawal destination is what a stolen session would add first: owners hear of it.
NOTIFY_OWNERS = frozenset({API_KEY_CREATED, APP_AUTHORIZED, FACTOR_REMOVED, SIGN_IN, BANK_ACCOUNT_ADDED})

MAX_USER_AGENT = 300
MAX_IP = 64


@dataclass(frozen=True)
class Origin:
    """Where a request came from: its client address and its ``User-Agent``, as received."""

    ip: str | None = None
    user_agent: str | None = None

    @classmethod
    def of(cls, request: Any) -> Origin:
        """The origin of a Starlette/FastAPI request (duck-typed: services import no web framework)."""
        if request is None:
            return cls()
        client = getattr(request, "client", None)
        headers = getattr(request, "headers", None)
        agent = headers.get("user-agent") if headers is not None else None
        return cls(
            ip=(client.host if client else None),
            user_agent=agent[:MAX_USER_AGENT] if agent else None,
        )


OPERATOR = Origin()  # an action taken with the `spiko` command: no address, no browser


def record(
    session: Session,
    investor_id: str,
    user_id: str | None,
    kind: str,
    details: Mapping[str, Any] | None = None,
    origin: Origin = OPERATOR,
    *,
    mailer: Mailer | None = None,
) -> SecurityEvent:
    """Record ``kind`` for ``investor_id`` (done by or to ``user_id``) in the caller's transaction.

    With a ``mailer``, the kinds in ``NOTIFY_OWNERS`` also mail every owner of the investor after
    the commit; without one (``None``), nothing is mailed.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown security event kind {kind!r}")
    event = SecurityEvent(
        investor_id=investor_id,
        user_id=user_id,
        kind=kind,
        details=json.dumps(dict(details or {}), sort_keys=True, default=str),
        ip=(origin.ip or None) and origin.ip[:MAX_IP],
        user_agent=origin.user_agent,
        created_at=utcnow(),
    )
    session.add(event)
    session.flush()
    if mailer is not None and _notifies_owners(kind, details or {}):
        notice = owner_notice(session, event, link=mailer.link("/activity"))
        if notice is not None:
            send_after_commit(session, mailer, notice)
    return event


def _notifies_owners(kind: str, details: Mapping[str, Any]) -> bool:
    if kind == SIGN_IN:
        return bool(details.get("new_device"))
    return kind in NOTIFY_OWNERS


def owner_emails(session: Session, investor_id: str) -> list[str]:
    return list(
        session.scalars(
            select(User.email)
            .where(User.investor_id == investor_id, User.role == "owner")
            .order_by(User.email)
        )
    )


def owner_notice(session: Session, event: SecurityEvent, *, link: str) -> Message | None:
    """The mail telling the owners about ``event``; None when the investor has no owner."""
    owners = owner_emails(session, event.investor_id)
    if not owners:
        return None
    details = json.loads(event.details)
    member = session.scalar(select(User.email).where(User.id == event.user_id)) if event.user_id else None
    who = member or "an operator"
    what = {
        API_KEY_CREATED: f'A new API key, "{details.get("name", "")}", was created by {who}.',
        APP_AUTHORIZED: f'The app "{details.get("client_name", details.get("client_id", ""))}" '
        f"was authorized by {who} to reach your account.",
        FACTOR_REMOVED: f"A second factor ({details.get('factor', 'unknown')}) "
        f"was removed from the sign-in of {who}.",
        SIGN_IN: f"{who} signed in from a device not seen before.",
        BANK_ACCOUNT_ADDED: f"The bank account {details.get('iban', '')} was added by {who} "
        "as a destination of withdrawals.",
    }[event.kind]
    lines = [
        what,
        "",
        f"When: {event.created_at:%Y-%m-%d %H:%M} UTC",
        f"From: {event.ip or 'unknown address'}" + (f" ({event.user_agent})" if event.user_agent else ""),
        "",
        "If this was expected, there is nothing to do.",
        "If not, sign in, revoke what you do not recognize and change your password:",
        link,
    ]
    return Message(
        to=owners, subject=f"Spiko security notice: {KINDS[event.kind].lower()}", text="\n".join(lines)
    )


@dataclass(frozen=True)
class ActivityEntry:
    at: datetime
    kind: str
    label: str
    member: str | None
    details: dict[str, Any]
    ip: str | None
    user_agent: str | None


def list_events(
    session: Session,
    investor_id: str,
    *,
    limit: int = 100,
    before: datetime | None = None,
    user_id: str | None = None,
) -> list[ActivityEntry]:
    """The investor's events, newest first (``before``: older than that instant; ``user_id``:
    only those done by or to that member)."""
    query = (
        select(SecurityEvent, User.email)
        .outerjoin(User, User.id == SecurityEvent.user_id)
        .where(SecurityEvent.investor_id == investor_id)
    )
    if before is not None:
        query = query.where(SecurityEvent.created_at < before)
    if user_id is not None:
        query = query.where(SecurityEvent.user_id == user_id)
    rows = session.execute(query.order_by(SecurityEvent.created_at.desc(), SecurityEvent.id).limit(limit))
    return [
        ActivityEntry(
            at=event.created_at,
            kind=event.kind,
            label=KINDS.get(event.kind, event.kind),
            member=email or json.loads(event.details).get("email"),
            details=json.loads(event.details),
            ip=event.ip,
            user_agent=event.user_agent,
        )
        for event, email in rows
    ]
