"""``/settings/security``: the user's second factors (authenticator app, passkeys, recovery codes)
and signed-in sessions; and the set-up page of a sign-in whose operator requires a second factor.

Every change of a factor asks for a recent proof (spiko.auth.stepup); ending sessions does not,
since it only ever takes access away.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from spiko.auth.sessions import (
    ENROLL,
    SignedInUser,
    active_sessions,
    csrf_valid,
    end_session,
    end_sessions,
    finish_sign_in,
    pending_sign_in,
)
from spiko.auth.stepup import require_recent_factor
from spiko.db.models.identity import User
from spiko.errors import InvariantError
from spiko.i18n import N_
from spiko.services import factors, security_events
from spiko.services.factors import FactorRefused
from spiko.services.security_events import Origin
from spiko.web.rendering import render
from spiko.web.routes import (
    app_context,
    csrf_refused,
    relying_party,
    safe_next,
    signed_in,
    signed_in_effects,
    to_login,
)

router = APIRouter(include_in_schema=False)
logger = logging.getLogger("spiko.web")

PAGE = "/settings/security"
_QR_TITLE = "QR code"


def qr_svg(uri: str) -> str:
    """The otpauth:// URI as an inline SVG QR code, made here (the secret never leaves the server)."""
    return str(segno.make(uri, error="m").svg_inline(scale=4, border=2, title=_QR_TITLE))


def _totp_setup(request: Request, session: Session, user: User) -> dict[str, str] | None:
    from spiko.auth import totp

    secret = factors.pending_totp_secret(session, app_context(request).settings.secret_key, user)
    if secret is None:
        return None
    uri = totp.provisioning_uri(secret, user.email, "Spiko")
    return {"secret": secret, "uri": uri, "qr": qr_svg(uri)}


def security_page(request: Request, user: SignedInUser, status_code: int = 200, **extra: Any) -> Response:
    with app_context(request).transaction(write=False) as session:
        account = session.get(User, user.user_id)
        if account is None:
            raise InvariantError("account is missing")
        context: dict[str, Any] = {
            "protection": factors.factors_of(session, account),
            "sessions": active_sessions(session, user.user_id),
            "totp_setup": _totp_setup(request, session, account),
            "register_options": factors.registration_options(session, relying_party(request), account),
        }
    context.update(extra)
    return render(
        request,
        "security.html",
        status_code=status_code,
        user=user,
        current_session=user.session_id,
        **context,
    )


def enrollment_page(
    request: Request, session: Session, user: User, next_path: str, status_code: int = 200, **extra: Any
) -> Response:
    return render(
        request,
        "enroll.html",
        status_code=status_code,
        next=next_path,
        totp_setup=_totp_setup(request, session, user),
        register_options=factors.registration_options(session, relying_party(request), user),
        **extra,
    )


def _record(request: Request, session: Session, user: User, kind: str, details: dict[str, Any]) -> None:
    """A security event in the change's transaction (owners are mailed of a factor removed)."""
    security_events.record(
        session,
        user.investor_id,
        user.id,
        kind,
        details,
        Origin.of(request),
        mailer=app_context(request).mailer,
    )


@router.get(PAGE)
def security(request: Request) -> Response:
    user = signed_in(request)
    if user is None:
        return to_login(request)
    return security_page(request, user)


class _Actor:
    """Who changes a factor: a signed-in user (whose last proof must be recent), or a sign-in
    setting up the factor its operator requires (it has just given its password)."""

    def __init__(self, request: Request, signed: SignedInUser | None, enrolling_next: str | None) -> None:
        self.request = request
        self.signed = signed
        self.enrolling_next = enrolling_next

    @property
    def enrolling(self) -> bool:
        return self.signed is None

    def user(self, session: Session) -> User | None:
        if self.signed is not None:
            return session.get(User, self.signed.user_id)
        pending = pending_sign_in(session, self.request, ENROLL)
        return session.get(User, pending.user_id) if pending else None

    def page(self, status_code: int = 200, **extra: Any) -> Response:
        if self.signed is not None:
            return security_page(self.request, self.signed, status_code, **extra)
        with app_context(self.request).transaction(write=False) as session:
            user = self.user(session)
            if user is None:
                return RedirectResponse("/login", status_code=303)
            return enrollment_page(
                self.request, session, user, self.enrolling_next or "/", status_code, **extra
            )


def _actor(
    request: Request, csrf_token: str, next_path: str = "", *, step_up: bool = True
) -> _Actor | Response:
    signed = signed_in(request)
    if signed is None:
        with app_context(request).transaction(write=False) as session:
            if pending_sign_in(session, request, ENROLL) is None:
                return to_login(request)
        if not csrf_valid(request, csrf_token):
            return csrf_refused(request)
        return _Actor(request, None, safe_next(next_path))
    if not csrf_valid(request, csrf_token):
        return csrf_refused(request)
    if step_up and (again := require_recent_factor(request, signed, back_to=PAGE)) is not None:
        return again
    return _Actor(request, signed, None)


def _first_factor_added(actor: _Actor, session: Session, user: User, had_factor: bool) -> list[str] | None:
    """Recovery codes for a user whose first factor this is (shown once, on the page that answers)."""
    if had_factor:
        return None
    return factors.new_recovery_codes(session, app_context(actor.request).settings.secret_key, user)


def _after_enrollment(actor: _Actor, session: Session, codes: list[str] | None) -> Response | None:
    """A sign-in that was waiting for this factor is finished, on the page showing the recovery
    codes (in the transaction that added the factor); None for a signed-in user."""
    if not actor.enrolling:
        return None
    pending = pending_sign_in(session, actor.request, ENROLL)
    if pending is None:
        raise InvariantError("pending is missing")
    page = render(
        actor.request, "recovery_codes.html", recovery_codes=codes or [], next=actor.enrolling_next or "/"
    )
    finish_sign_in(session, actor.request, page, pending)
    user = session.get(User, pending.user_id)
    if user is None:
        raise InvariantError("user is missing")
    signed_in_effects(actor.request, page, session, user, "enrollment")
    return page


def _factor_added(actor: _Actor, codes: list[str] | None) -> Response:
    """The security page after the commit, so it lists the new factor."""
    if actor.signed is None:
        raise InvariantError("actor.signed is missing")
    return security_page(actor.request, actor.signed, notice=N_("Second factor added."), recovery_codes=codes)


@router.post(PAGE + "/totp")
def start_totp(
    request: Request,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=4096)] = "",
) -> Response:
    actor = _actor(request, csrf_token, next)
    if isinstance(actor, Response):
        return actor
    try:
        with app_context(request).transaction() as session:
            user = actor.user(session)
            if user is None:
                return to_login(request)
            factors.start_totp(session, app_context(request).settings.secret_key, user, "Spiko")
    except FactorRefused as refused:
        return actor.page(400, error=str(refused))
    return actor.page()


def _add_factor(actor: _Actor, kind: str, add: Callable[[Session, User], dict[str, Any]]) -> Response:
    """Add a factor with ``add`` (which answers the security event's details) in one transaction:
    the event, the first factor's recovery codes, and the end of a sign-in that was waiting for it."""
    request = actor.request
    try:
        with app_context(request).transaction() as session:
            user = actor.user(session)
            if user is None:
                return to_login(request)
            had_factor = factors.factors_of(session, user).any
            _record(request, session, user, security_events.FACTOR_ADDED, add(session, user))
            codes = _first_factor_added(actor, session, user, had_factor)
            answer = _after_enrollment(actor, session, codes)
            logger.info("second factor added", extra={"fields": {"user_id": user.id, "kind": kind}})
    except FactorRefused as refused:
        return actor.page(400, error=str(refused))
    return answer or _factor_added(actor, codes)


def _remove_factor(
    actor: _Actor, kind: str, remove: Callable[[Session, User], dict[str, Any]], notice: str
) -> Response:
    """Remove a factor of a signed-in user with ``remove`` (which answers the security event's
    details; its ``name``, when there is one, fills the notice's)."""
    request = actor.request
    if actor.signed is None:
        return to_login(request)
    try:
        with app_context(request).transaction() as session:
            user = actor.user(session)
            if user is None:
                raise InvariantError("user is missing")
            details = remove(session, user)
            _record(request, session, user, security_events.FACTOR_REMOVED, details)
    except FactorRefused as refused:
        return actor.page(400, error=str(refused))
    logger.info("second factor removed", extra={"fields": {"user_id": actor.signed.user_id, "kind": kind}})
    return actor.page(notice=notice, notice_name=details.get("name"))


@router.post(PAGE + "/totp/confirm")
def confirm_totp(
    request: Request,
    code: Annotated[str, Form(max_length=64)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=4096)] = "",
) -> Response:
    actor = _actor(request, csrf_token, next)
    if isinstance(actor, Response):
        return actor
    ctx = app_context(request)

    def confirm(session: Session, user: User) -> dict[str, Any]:
        factors.confirm_totp(session, ctx.settings.secret_key, user, code, ctx.factor_clock())
        return {"factor": "authenticator app"}

    return _add_factor(actor, "totp", confirm)


@router.post(PAGE + "/totp/remove")
def remove_totp(request: Request, csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    actor = _actor(request, csrf_token)
    if isinstance(actor, Response):
        return actor

    def remove(session: Session, user: User) -> dict[str, Any]:
        factors.remove_totp(session, user)
        return {"factor": "authenticator app"}

    return _remove_factor(actor, "totp", remove, N_("The authenticator app was removed."))


@router.post(PAGE + "/passkeys")
def add_passkey(
    request: Request,
    credential: Annotated[str, Form(max_length=20_000)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=4096)] = "",
) -> Response:
    actor = _actor(request, csrf_token, next)
    if isinstance(actor, Response):
        return actor

    def add(session: Session, user: User) -> dict[str, Any]:
        added = factors.add_passkey(session, relying_party(request), user, credential, name)
        return {"factor": "passkey", "name": added.name}

    return _add_factor(actor, "passkey", add)


@router.post(PAGE + "/passkeys/remove")
def remove_passkey(
    request: Request,
    passkey_id: Annotated[str, Form(max_length=64)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    actor = _actor(request, csrf_token)
    if isinstance(actor, Response):
        return actor

    def remove(session: Session, user: User) -> dict[str, Any]:
        removed = factors.remove_passkey(session, user, passkey_id)
        return {"factor": "passkey", "name": removed.name}

    return _remove_factor(actor, "passkey", remove, N_("The passkey “%(name)s” was removed."))


@router.post(PAGE + "/recovery-codes")
def new_recovery_codes(request: Request, csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    actor = _actor(request, csrf_token)
    if isinstance(actor, Response):
        return actor
    if actor.enrolling:
        return to_login(request)
    with app_context(request).transaction() as session:
        user = actor.user(session)
        if user is None:
            raise InvariantError("user is missing")
        if not factors.factors_of(session, user).any:
            return actor.page(400, error=N_("Set up a second factor first."))
        codes = factors.new_recovery_codes(session, app_context(request).settings.secret_key, user)
        _record(request, session, user, security_events.FACTOR_ADDED, {"factor": "recovery codes"})
    return actor.page(notice=N_("New recovery codes: the earlier ones no longer work."), recovery_codes=codes)


@router.post(PAGE + "/sessions/end")
def end_one_session(
    request: Request,
    session_id: Annotated[str, Form(max_length=64)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    actor = _actor(request, csrf_token, step_up=False)
    if isinstance(actor, Response):
        return actor
    if actor.signed is None:
        return to_login(request)
    if session_id == actor.signed.session_id:
        return _sign_out_here(request)
    with app_context(request).transaction() as session:
        ended = end_sessions(session, actor.signed.user_id, session_id)
        if ended:
            user = session.get(User, actor.signed.user_id)
            if user is None:
                raise InvariantError("user is missing")
            _record(request, session, user, security_events.SESSIONS_ENDED, {"sessions": ended})
    if not ended:
        return actor.page(404, error=N_("That session has ended already."))
    return actor.page(notice=N_("The session was signed out."))


@router.post(PAGE + "/sessions/end-all")
def end_every_session(request: Request, csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    actor = _actor(request, csrf_token, step_up=False)
    if isinstance(actor, Response):
        return actor
    if actor.signed is None:
        return to_login(request)
    with app_context(request).transaction() as session:
        user = session.get(User, actor.signed.user_id)
        if user is None:
            raise InvariantError("user is missing")
        ended = end_sessions(session, actor.signed.user_id)
        _record(
            request, session, user, security_events.SESSIONS_ENDED, {"sessions": ended, "everywhere": True}
        )
    logger.info(
        "signed out everywhere", extra={"fields": {"user_id": actor.signed.user_id, "sessions": ended}}
    )
    return _sign_out_here(request)


def _sign_out_here(request: Request) -> Response:
    response = RedirectResponse("/login", status_code=303)
    with app_context(request).transaction() as session:
        end_session(session, request, response)
    return response
