"""Browser sessions and CSRF protection for the investor app.

Session: the cookie holds a random 256-bit token; the database keeps only its SHA-256, so a
leaked table opens no session. A new token is issued at every sign-in (no fixation).

CSRF: a signed double-submit token bound to the session (OWASP's "signed double-submit
cookie"). A random seed lives in an HttpOnly cookie; every form carries
HMAC(server subkey, seed + the session cookie), checked in constant time. Binding the session
means a seed planted in a victim's browser (cookie injection from a sibling host) is useless
without the victim's session token; the seed itself serves the forms shown before sign-in.
Both the seed and the session token change at sign-in, so tokens from before it stop working.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeGuard

from fastapi import Request, Response
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from spiko.auth.secrets import constant_time_equals, derive_key, keyed_hash, random_token, sha256_hex
from spiko.db.models.identity import Investor, User, WebSession
from spiko.db.types import utcnow
from spiko.errors import InvariantError

SESSION_COOKIE = "spiko_session"
CSRF_COOKIE = "spiko_csrf"
SESSION_LIFETIME = timedelta(hours=12)
# A sign-in waiting for its second step (or for a factor to be set up) lasts this long.
PENDING_LIFETIME = timedelta(minutes=10)
# "Last seen" is written at most this often per session, so browsing costs no write per page.
LAST_SEEN_PRECISION = timedelta(minutes=1)
SIGNED_IN = "signed_in"
SECOND_FACTOR = "second_factor"
ENROLL = "enroll"


@dataclass(frozen=True)
class SignedInUser:
    user_id: str
    email: str
    investor_id: str
    investor_name: str
    session_id: str
    # When this session last proved who is there (password or second factor): see spiko.auth.stepup.
    verified_at: datetime | None = None
    last_seen_at: datetime | None = None
    role: str = "owner"  # spiko.auth.roles


MAX_COOKIE_LENGTH = 200


def _set_cookie(request: Request, response: Response, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.app.state.ctx.settings.secure_cookies,
    )


def start_session(
    session: Session, request: Request, response: Response, user: User, *, stage: str = SIGNED_IN
) -> WebSession:
    """Sign ``user`` in (or, with another ``stage``, start a sign-in that waits for its next step):
    drop the browser's previous session and issue a fresh token and CSRF seed."""
    old = request.cookies.get(SESSION_COOKIE)
    if old and len(old) <= MAX_COOKIE_LENGTH:
        session.execute(delete(WebSession).where(WebSession.token_hash == sha256_hex(old)))
    now = utcnow()
    session.execute(delete(WebSession).where(WebSession.user_id == user.id, WebSession.expires_at <= now))
    token = random_token(32)
    lifetime = SESSION_LIFETIME if stage == SIGNED_IN else PENDING_LIFETIME
    row = WebSession(
        token_hash=sha256_hex(token),
        user_id=user.id,
        expires_at=now + lifetime,
        stage=stage,
        verified_at=now,
        last_seen_at=now,
        address=client_address(request)[:64],
        device=describe_device(request.headers.get("user-agent", "")),
    )
    session.add(row)
    session.flush()
    _set_cookie(request, response, SESSION_COOKIE, token, int(lifetime.total_seconds()))
    _set_cookie(request, response, CSRF_COOKIE, random_token(32), None)
    return row


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def describe_device(user_agent: str) -> str:
    """A short name for a browser, as a person recognizes it ("Chrome on Linux"), from its User-Agent."""
    agent = user_agent[:500]
    browser = next(
        (
            name
            for token, name in (
                ("Edg/", "Edge"),
                ("OPR/", "Opera"),
                ("Firefox/", "Firefox"),
                ("Chrome/", "Chrome"),
                ("Chromium/", "Chromium"),
                ("Safari/", "Safari"),
                ("curl/", "curl"),
                ("python-httpx", "Python"),
            )
            if token in agent
        ),
        None,
    )
    system = next(
        (
            name
            for token, name in (
                ("Android", "Android"),
                ("iPhone", "iOS"),
                ("iPad", "iPadOS"),
                ("Windows", "Windows"),
                ("Mac OS X", "macOS"),
                ("CrOS", "ChromeOS"),
                ("Linux", "Linux"),
            )
            if token in agent
        ),
        None,
    )
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or (agent[:60] if agent.isprintable() else "") or "Unknown browser"


def pending_sign_in(session: Session, request: Request, stage: str) -> WebSession | None:
    """The browser's sign-in waiting for ``stage`` (second factor or enrollment), if unexpired."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > MAX_COOKIE_LENGTH:
        return None
    row = session.scalar(select(WebSession).where(WebSession.token_hash == sha256_hex(token)))
    if row is None or row.stage != stage or row.expires_at <= utcnow():
        return None
    return row


def finish_sign_in(session: Session, request: Request, response: Response, pending: WebSession) -> WebSession:
    """The second step succeeded: the waiting session gives way to a signed-in one, under a new token."""
    user = session.get(User, pending.user_id)
    if user is None:  # the row cascades away with its user
        raise InvariantError("user is missing")
    return start_session(session, request, response, user)


def mark_verified(session: Session, session_id: str) -> None:
    """The user of this session just proved it again (step-up)."""
    row = session.get(WebSession, session_id)
    if row is not None:
        row.verified_at = utcnow()


def touch(session: Session, session_id: str) -> None:
    """Record that the session was seen now."""
    row = session.get(WebSession, session_id)
    if row is not None:
        row.last_seen_at = utcnow()


def end_session(session: Session, request: Request, response: Response) -> None:
    token = request.cookies.get(SESSION_COOKIE)
    if token and len(token) <= MAX_COOKIE_LENGTH:
        session.execute(delete(WebSession).where(WebSession.token_hash == sha256_hex(token)))
    secure = request.app.state.ctx.settings.secure_cookies
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, path="/", httponly=True, samesite="lax", secure=secure)


def current_user(session: Session, request: Request) -> SignedInUser | None:
    """The signed-in user (a sign-in still waiting for its second step is not one yet)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > MAX_COOKIE_LENGTH:
        return None
    row = session.execute(
        select(
            WebSession.id,
            WebSession.expires_at,
            User.id,
            User.email,
            Investor.id,
            Investor.name,
            WebSession.stage,
            WebSession.verified_at,
            WebSession.last_seen_at,
            User.role,
        )
        .join(User, User.id == WebSession.user_id)
        .join(Investor, Investor.id == User.investor_id)
        .where(WebSession.token_hash == sha256_hex(token))
    ).first()
    if row is None or row[1] <= utcnow() or row[6] != SIGNED_IN:
        return None
    return SignedInUser(
        user_id=row[2],
        email=row[3],
        investor_id=row[4],
        investor_name=row[5],
        session_id=row[0],
        verified_at=row[7],
        last_seen_at=row[8],
        role=row[9],
    )


def _valid_seed(seed: str | None) -> TypeGuard[str]:
    return seed is not None and 20 <= len(seed) <= 100


def csrf_seed(request: Request, response: Response | None = None) -> str:
    """The browser's CSRF seed; a new one is set on ``response`` when the browser has none."""
    seed = request.cookies.get(CSRF_COOKIE)
    if _valid_seed(seed):
        return seed
    seed = getattr(request.state, "new_csrf_seed", None) or random_token(32)
    request.state.new_csrf_seed = seed
    if response is not None:
        _set_cookie(request, response, CSRF_COOKIE, seed, None)
    return seed


def csrf_token_for(request: Request, seed: str) -> str:
    """The token forms carry: bound to the seed and to the browser's session cookie (if any)."""
    key = derive_key(request.app.state.ctx.settings.secret_key, "csrf")
    session_token = request.cookies.get(SESSION_COOKIE) or ""
    if len(session_token) > MAX_COOKIE_LENGTH:
        session_token = ""
    return keyed_hash(key, seed + "|" + session_token)


def csrf_valid(request: Request, submitted: str | None) -> bool:
    seed = request.cookies.get(CSRF_COOKIE)
    if not _valid_seed(seed) or not submitted or len(submitted) > 200:
        return False
    return constant_time_equals(csrf_token_for(request, seed), submitted)


def active_sessions(session: Session, user_id: str) -> list[WebSession]:
    """The user's signed-in browsers, most recently seen first."""
    return list(
        session.scalars(
            select(WebSession)
            .where(
                WebSession.user_id == user_id, WebSession.stage == SIGNED_IN, WebSession.expires_at > utcnow()
            )
            .order_by(WebSession.last_seen_at.desc(), WebSession.created_at.desc())
        )
    )


def end_sessions(session: Session, user_id: str, session_id: str | None = None) -> int:
    """Sign out one of the user's sessions (``session_id``) or every one of them; how many ended."""
    query = delete(WebSession).where(WebSession.user_id == user_id)
    if session_id is not None:
        query = query.where(WebSession.id == session_id)
    return int(session.execute(query).rowcount)  # type: ignore[attr-defined]
