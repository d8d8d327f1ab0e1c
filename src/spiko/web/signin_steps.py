"""The steps of sign-in after the password, and step-up: a second factor at ``/login/verify``,
setting one up when the operator requires it (``/login/enroll``), passwordless sign-in with a
passkey (``/login/passkey``) and proving it again before a sensitive change (``/login/step-up``).

A code is a six-digit code from the user's authenticator app or one of their recovery codes;
failed codes slow down per user exactly like failed passwords (spiko.auth.throttle), so the
second step cannot be brute-forced by someone who has the password.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from spiko.auth import throttle
from spiko.auth.passwords import verify_password
from spiko.auth.sessions import (
    ENROLL,
    SECOND_FACTOR,
    SignedInUser,
    client_address,
    csrf_valid,
    finish_sign_in,
    mark_verified,
    pending_sign_in,
    start_session,
)
from spiko.db.models.identity import User, WebSession
from spiko.errors import InvariantError
from spiko.i18n import N_
from spiko.services import factors, security_events
from spiko.services.factors import FactorRefused
from spiko.services.security_events import Origin
from spiko.web.rendering import render, translate
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

WRONG_CODE = N_("That code is not right, or it was used already. Try the code your app shows now.")
TOO_MANY = N_("Too many wrong codes. Try again after %(time)s.")
SIGN_IN_EXPIRED = N_("This sign-in has expired or was finished elsewhere. Sign in again.")


def _expired(request: Request) -> Response:
    return render(
        request,
        "error.html",
        status_code=400,
        title=translate(request, "Sign-in expired"),
        message=translate(request, SIGN_IN_EXPIRED),
        link="/login",
        link_text=translate(request, "Sign in"),
    )


def _code_counter(request: Request, user_id: str) -> throttle.Counter:
    return throttle.Counter(
        f"second-factor:user:{user_id}", app_context(request).settings.second_factor_attempts
    )


def _failed(request: Request, user_id: str | None, step: str) -> None:
    """A wrong second factor: counted in /metrics and shown on the investor's activity page."""
    request.app.state.metrics.login_failures.labels("second_factor").inc()
    if user_id is None:
        return
    with app_context(request).transaction() as session:
        user = session.get(User, user_id)
        if user is not None:
            security_events.record(
                session,
                user.investor_id,
                user.id,
                security_events.SIGN_IN_FAILED,
                {"step": step},
                Origin.of(request),
            )


# -- the second step of sign-in ------------------------------------------------------------------------


def _verify_page(
    request: Request,
    session: Session,
    pending: WebSession,
    next_path: str,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    user = session.get(User, pending.user_id)
    if user is None:
        raise InvariantError("user is missing")
    options = factors.authentication_options(
        session, relying_party(request), purpose="second-factor", subject=pending.id, user=user
    )
    return render(
        request,
        "verify.html",
        status_code=status_code,
        next=next_path,
        passkey_options=options,
        has_totp=factors.factors_of(session, user).totp,
        **extra,
    )


def _verify_again(request: Request, next_path: str, status_code: int, **extra: Any) -> Response:
    """The second step's page again, saying why (or the sign-in expired page, when it has)."""
    with app_context(request).transaction(write=False) as session:
        pending = pending_sign_in(session, request, SECOND_FACTOR)
        if pending is None:
            return _expired(request)
        return _verify_page(request, session, pending, next_path, status_code=status_code, **extra)


@router.get("/login/verify")
def verify_page(request: Request, next: str | None = None) -> Response:
    with app_context(request).transaction(write=False) as session:
        pending = pending_sign_in(session, request, SECOND_FACTOR)
        if pending is None:
            return RedirectResponse("/login", status_code=303)
        return _verify_page(request, session, pending, safe_next(next))


@router.post("/login/verify")
def verify(
    request: Request,
    code: Annotated[str, Form(max_length=64)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=4096)] = "",
) -> Response:
    if not csrf_valid(request, csrf_token):
        return csrf_refused(request)
    ctx = app_context(request)
    target = safe_next(next)
    with ctx.transaction(write=False) as session:
        pending = pending_sign_in(session, request, SECOND_FACTOR)
        if pending is None:
            return _expired(request)
        user_id = pending.user_id
    counter = _code_counter(request, user_id)
    wait = ctx.sign_in_throttle.attempt([counter])
    if not wait.allowed:
        page = _verify_again(request, target, 429, error=TOO_MANY, error_time=wait.retry_at_text)
        page.headers["Retry-After"] = str(wait.retry_after)
        return page
    response = RedirectResponse(target, status_code=303)
    with ctx.transaction() as session:
        pending = pending_sign_in(session, request, SECOND_FACTOR)
        if pending is None:
            return _expired(request)
        user = session.get(User, pending.user_id)
        if user is None:
            raise InvariantError("user is missing")
        used = factors.check_code(session, ctx.settings.secret_key, user, code, ctx.factor_clock())
        if used is not None:
            finish_sign_in(session, request, response, pending)
            signed_in_effects(request, response, session, user, used)
    if used is None:
        _failed(request, user_id, "code")
        return _verify_again(request, target, 400, error=WRONG_CODE)
    ctx.sign_in_throttle.succeeded(counter, [])
    logger.info("sign-in second step", extra={"fields": {"user_id": user_id, "with": used}})
    return response


@router.post("/login/verify/passkey")
def verify_with_passkey(
    request: Request,
    credential: Annotated[str, Form(max_length=20_000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=4096)] = "",
) -> Response:
    if not csrf_valid(request, csrf_token):
        return csrf_refused(request)
    ctx = app_context(request)
    target = safe_next(next)
    response = RedirectResponse(target, status_code=303)
    pending_user: str | None = None
    try:
        with ctx.transaction() as session:
            pending = pending_sign_in(session, request, SECOND_FACTOR)
            if pending is None:
                return _expired(request)
            user = session.get(User, pending.user_id)
            if user is None:
                raise InvariantError("user is missing")
            pending_user = user.id
            factors.check_passkey(
                session,
                relying_party(request),
                credential,
                purpose="second-factor",
                subject=pending.id,
                user=user,
            )
            finish_sign_in(session, request, response, pending)
            signed_in_effects(request, response, session, user, "passkey")
    except FactorRefused as refused:
        _failed(request, pending_user, "passkey")
        return _verify_again(request, target, 400, error=str(refused))
    return response


# -- passwordless sign-in ------------------------------------------------------------------------------


@router.post("/login/passkey")
def sign_in_with_passkey(
    request: Request,
    credential: Annotated[str, Form(max_length=20_000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=4096)] = "",
) -> Response:
    """A passkey whose authenticator verified its user (PIN, biometrics) signs in on its own."""
    from spiko.web.routes import login_options

    if not csrf_valid(request, csrf_token):
        return csrf_refused(request)
    ctx = app_context(request)
    target = safe_next(next)
    address = client_address(request)
    counter = throttle.Counter(f"passkey:address:{address}", ctx.settings.login_attempts_per_address)
    wait = ctx.sign_in_throttle.attempt([counter])

    def refused(error: str, status_code: int, **variables: str) -> Response:
        """The sign-in page again, saying why (in the page's language)."""
        request.app.state.metrics.login_failures.labels("passkey").inc()
        return render(
            request,
            "login.html",
            status_code=status_code,
            next=target,
            email="",
            error=translate(request, error, **variables),
            passkey_options=login_options(request),
        )

    if not wait.allowed:
        return refused(
            N_("Too many failed sign-ins. Try again after %(time)s."), 429, time=wait.retry_at_text
        )
    response = RedirectResponse(target, status_code=303)
    try:
        with ctx.transaction() as session:
            passkey = factors.check_passkey(
                session, relying_party(request), credential, purpose="login", subject="", user=None
            )
            user = session.get(User, passkey.user_id)
            if user is None:
                raise InvariantError("user is missing")
            start_session(session, request, response, user)
            signed_in_effects(request, response, session, user, "passkey")
            user_id = user.id
    except FactorRefused as failed:
        return refused(str(failed), 400)
    ctx.sign_in_throttle.succeeded(counter, [])
    logger.info("sign-in", extra={"fields": {"user_id": user_id, "with": "passkey"}})
    return response


# -- setting a factor up when the operator requires one ---------------------------------------------------


@router.get("/login/enroll")
def enroll_page(request: Request, next: str | None = None) -> Response:
    from spiko.web.security import enrollment_page

    with app_context(request).transaction(write=False) as session:
        pending = pending_sign_in(session, request, ENROLL)
        if pending is None:
            return RedirectResponse("/login", status_code=303)
        user = session.get(User, pending.user_id)
        if user is None:
            raise InvariantError("user is missing")
        return enrollment_page(request, session, user, safe_next(next))


# -- step-up ---------------------------------------------------------------------------------------------


def _step_up_page(
    request: Request, user: SignedInUser, next_path: str, status_code: int = 200, **extra: Any
) -> Response:
    with app_context(request).transaction(write=False) as session:
        account = session.get(User, user.user_id)
        if account is None:
            raise InvariantError("account is missing")
        protection = factors.factors_of(session, account)
        options = factors.authentication_options(
            session, relying_party(request), purpose="step-up", subject=user.session_id, user=account
        )
    return render(
        request,
        "step_up.html",
        status_code=status_code,
        user=user,
        next=next_path,
        passkey_options=options,
        has_totp=protection.totp,
        has_factor=protection.any,
        **extra,
    )


@router.get("/login/step-up")
def step_up_page(request: Request, next: str | None = None) -> Response:
    user = signed_in(request)
    if user is None:
        return to_login(request)
    return _step_up_page(request, user, safe_next(next))


@router.post("/login/step-up")
def step_up(
    request: Request,
    code: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    credential: Annotated[str, Form(max_length=20_000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=4096)] = "",
) -> Response:
    """Confirm with a code, a passkey, or — for users without a second factor — the password."""
    user = signed_in(request)
    if user is None:
        return to_login(request)
    if not csrf_valid(request, csrf_token):
        return csrf_refused(request)
    ctx = app_context(request)
    target = safe_next(next)
    counter = _code_counter(request, user.user_id)
    wait = ctx.sign_in_throttle.attempt([counter])
    if not wait.allowed:
        page = _step_up_page(
            request,
            user,
            target,
            status_code=429,
            error=TOO_MANY,
            error_time=wait.retry_at_text,
        )
        page.headers["Retry-After"] = str(wait.retry_after)
        return page
    error = WRONG_CODE
    with ctx.transaction() as session:
        account = session.get(User, user.user_id)
        if account is None:
            raise InvariantError("account is missing")
        protection = factors.factors_of(session, account)
        if credential:
            try:
                factors.check_passkey(
                    session,
                    relying_party(request),
                    credential,
                    purpose="step-up",
                    subject=user.session_id,
                    user=account,
                )
                confirmed = True
            except FactorRefused as refused:
                confirmed, error = False, str(refused)
        elif protection.any:
            confirmed = (
                factors.check_code(session, ctx.settings.secret_key, account, code, ctx.factor_clock())
                is not None
            )
        else:
            confirmed = verify_password(account.password_hash, password)
            error = N_("That password is not right.")
        if confirmed:
            mark_verified(session, user.session_id)
    if not confirmed:
        _failed(request, user.user_id, "step_up")
        return _step_up_page(request, user, target, status_code=400, error=error)
    ctx.sign_in_throttle.succeeded(counter, [])
    return RedirectResponse(target, status_code=303)


def step_up_link(back_to: str) -> str:
    return f"/login/step-up?next={quote(back_to, safe='')}"
