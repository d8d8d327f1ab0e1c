"""Browser sessions and CSRF protection for the investor app.

Session: the cookie holds a random 256-bit token; the database keeps only its SHA-256, so a
leaked table opens no session. A new token is issued at every sign-in (no fixation).

CSRF: a signed double-submit token (OWASP). A random seed lives in an HttpOnly cookie; every
form carries HMAC(secret, seed), checked in constant time. The seed changes at sign-in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

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


def _cookie_args(request: Request) -> dict[str, object]:
    settings = request.app.state.ctx.settings
    return {"httponly": True, "samesite": "lax", "secure": settings.secure_cookies, "path": "/"}


def start_session(session: Session, request: Request, response: Response, user: User) -> None:
    """Sign ``user`` in: drop the browser's previous session and issue a fresh token and CSRF seed."""
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        session.execute(delete(WebSession).where(WebSession.token_hash == sha256_hex(old)))
    token = random_token(32)
    session.add(
        WebSession(token_hash=sha256_hex(token), user_id=user.id, expires_at=utcnow() + SESSION_LIFETIME)
    )
    response.set_cookie(
        SESSION_COOKIE, token, max_age=int(SESSION_LIFETIME.total_seconds()), **_cookie_args(request)
    )  # type: ignore[arg-type]
    response.set_cookie(CSRF_COOKIE, random_token(32), **_cookie_args(request))  # type: ignore[arg-type]


def end_session(session: Session, request: Request, response: Response) -> None:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        session.execute(delete(WebSession).where(WebSession.token_hash == sha256_hex(token)))
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")


def current_user(session: Session, request: Request) -> SignedInUser | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > 200:
        return None
    row = session.execute(
        select(WebSession.id, WebSession.expires_at, User.id, User.email, Investor.id, Investor.name)
        .join(User, User.id == WebSession.user_id)
        .join(Investor, Investor.id == User.investor_id)
        .where(WebSession.token_hash == sha256_hex(token))
    ).first()
    if row is None or row[1] <= utcnow():
        return None
    return SignedInUser(
        user_id=row[2], email=row[3], investor_id=row[4], investor_name=row[5], session_id=row[0]
    )


def csrf_seed(request: Request, response: Response | None = None) -> str:
    """The browser's CSRF seed; a new one is set on ``response`` when the browser has none."""
    seed = request.cookies.get(CSRF_COOKIE)
    if seed and 20 <= len(seed) <= 100:
        return seed
    seed = getattr(request.state, "new_csrf_seed", None) or random_token(32)
    request.state.new_csrf_seed = seed
    if response is not None:
        response.set_cookie(CSRF_COOKIE, seed, **_cookie_args(request))  # type: ignore[arg-type]
    return seed


def csrf_token_for(request: Request, seed: str) -> str:
    key = derive_key(request.app.state.ctx.settings.secret_key, "csrf")
    return keyed_hash(key, seed)


def csrf_valid(request: Request, submitted: str | None) -> bool:
    seed = request.cookies.get(CSRF_COOKIE)
    if not seed or not submitted:
        return False
    return constant_time_equals(csrf_token_for(request, seed), submitted)
