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
from datetime import timedelta
from typing import TypeGuard

from fastapi import Request, Response
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from spiko.auth.secrets import constant_time_equals, derive_key, keyed_hash, random_token, sha256_hex
from spiko.db.models.identity import Investor, User, WebSession
from spiko.db.types import utcnow

SESSION_COOKIE = "spiko_session"
CSRF_COOKIE = "spiko_csrf"
SESSION_LIFETIME = timedelta(hours=12)


@dataclass(frozen=True)
class SignedInUser:
    user_id: str
    email: str
    investor_id: str
    investor_name: str
    session_id: str
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


def start_session(session: Session, request: Request, response: Response, user: User) -> None:
    """Sign ``user`` in: drop the browser's previous session and issue a fresh token and CSRF seed."""
    old = request.cookies.get(SESSION_COOKIE)
    if old and len(old) <= MAX_COOKIE_LENGTH:
        session.execute(delete(WebSession).where(WebSession.token_hash == sha256_hex(old)))
    now = utcnow()
    session.execute(delete(WebSession).where(WebSession.user_id == user.id, WebSession.expires_at <= now))
    token = random_token(32)
    session.add(WebSession(token_hash=sha256_hex(token), user_id=user.id, expires_at=now + SESSION_LIFETIME))
    _set_cookie(request, response, SESSION_COOKIE, token, int(SESSION_LIFETIME.total_seconds()))
    _set_cookie(request, response, CSRF_COOKIE, random_token(32), None)


def end_session(session: Session, request: Request, response: Response) -> None:
    token = request.cookies.get(SESSION_COOKIE)
    if token and len(token) <= MAX_COOKIE_LENGTH:
        session.execute(delete(WebSession).where(WebSession.token_hash == sha256_hex(token)))
    secure = request.app.state.ctx.settings.secure_cookies
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, path="/", httponly=True, samesite="lax", secure=secure)


def current_user(session: Session, request: Request) -> SignedInUser | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > MAX_COOKIE_LENGTH:
        return None
    row = session.execute(
        select(
            WebSession.id, WebSession.expires_at, User.id, User.email, Investor.id, Investor.name, User.role
        )
        .join(User, User.id == WebSession.user_id)
        .join(Investor, Investor.id == User.investor_id)
        .where(WebSession.token_hash == sha256_hex(token))
    ).first()
    if row is None or row[1] <= utcnow():
        return None
    return SignedInUser(
        user_id=row[2], email=row[3], investor_id=row[4], investor_name=row[5], session_id=row[0], role=row[6]
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
