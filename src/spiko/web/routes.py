"""Investor app pages: sign-in, sign-out and the integrations page (API keys)."""

from __future__ import annotations

import logging
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from spiko.api.deps import WriteSession
from spiko.auth import roles, throttle
from spiko.auth import scopes as api_scopes
from spiko.auth.passkeys import RelyingParty
from spiko.auth.sessions import (
    ENROLL,
    LAST_SEEN_PRECISION,
    SECOND_FACTOR,
    SIGNED_IN,
    SignedInUser,
    csrf_valid,
    current_user,
    end_session,
    start_session,
    touch,
)
from spiko.auth.stepup import require_recent_factor
from spiko.context import AppContext
from spiko.db.models.identity import User
from spiko.db.types import utcnow
from spiko.errors import ApiError
from spiko.i18n import N_
from spiko.services import factors, identity, security_events
from spiko.services.security_events import Origin
from spiko.web.rendering import render, translate

router = APIRouter(include_in_schema=False)
logger = logging.getLogger("spiko.web")


def app_context(request: Request) -> AppContext:
    """The application's context (settings, database, caches) a request is served with."""
    ctx: AppContext = request.app.state.ctx
    return ctx


def safe_next(target: str | None) -> str:
    """Only same-site paths are followed after sign-in (no open redirect).

    Browsers drop tabs and newlines from URLs and read a backslash as a slash, so any of those
    could turn ``/<TAB>/evil.example`` into ``//evil.example``: such targets are refused outright.
    """
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and all(" " < char != "\x7f" for char in target)
    ):
        return target
    return "/"


def signed_in(request: Request) -> SignedInUser | None:
    """The member signed in on this browser, read once per request (the page guard reads it first)."""
    if hasattr(request.state, "signed_in_user"):
        known: SignedInUser | None = request.state.signed_in_user
        return known
    with app_context(request).transaction(write=False) as session:
        user = current_user(session, request)
    if user is not None and (
        user.last_seen_at is None or utcnow() - user.last_seen_at >= LAST_SEEN_PRECISION
    ):
        with app_context(request).transaction() as session:
            touch(session, user.session_id)
    request.state.signed_in_user = user
    return user


def to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def csrf_refused(request: Request) -> Response:
    return render(
        request,
        "error.html",
        status_code=403,
        title=translate(request, "Form expired"),
        message=translate(
            request,
            "This form has expired or did not come from this site. Go back, reload the page and try again.",
        ),
    )


def signed_in_form(request: Request, csrf_token: str) -> SignedInUser | Response:
    """The signed-in user posting a form with a valid CSRF token, or the response that refuses it."""
    user = signed_in(request)
    if user is None:
        return to_login(request)
    if not csrf_valid(request, csrf_token):
        return csrf_refused(request)
    return user


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    return render(
        request,
        "login.html",
        next=safe_next(next),
        email="",
        error=None,
        passkey_options=login_options(request),
    )


def relying_party(request: Request) -> RelyingParty:
    settings = app_context(request).settings
    return RelyingParty.for_issuer(settings.issuer, settings.secret_key)


def login_options(request: Request) -> str:
    """The passkey prompt of the sign-in page: any passkey of this site, its user verified."""
    return relying_party(request).authentication_options(purpose="login", subject="", allow=None)


# The same words for an unknown email and a wrong password: the form tells nothing about who exists.
INVALID_CREDENTIALS = N_("Invalid email or password.")


def _too_many_attempts(request: Request, wait: throttle.Wait) -> str:
    return translate(request, "Too many failed sign-ins. Try again after %(time)s.", time=wait.retry_at_text)


@router.post("/login")
def login(
    request: Request,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=4096)] = "",
) -> Response:
    ctx = app_context(request)
    settings = ctx.settings
    if not csrf_valid(request, csrf_token):
        return csrf_refused(request)
    target = safe_next(next)
    address = request.client.host if request.client else "unknown"
    account = throttle.account_key(email)
    device = throttle.known_device(settings.secret_key, request.cookies.get(throttle.DEVICE_COOKIE), account)
    # Failures slow down where they come from: this account from this address (or from this
    # known browser, wherever it is), and this address for every account (spiko.auth.throttle).
    owner = throttle.Counter(
        f"login:account:{account}:" + (f"device:{device}" if device else f"address:{address}"),
        settings.login_attempts_per_account,
    )
    everyone = throttle.Counter(f"login:address:{address}", settings.login_attempts_per_address)
    others = [] if device else [everyone]

    def refused(reason: str, status_code: int, error: str, headers: dict[str, str] | None = None) -> Response:
        """The form again, with the email typed and the reason; counted in /metrics."""
        request.app.state.metrics.login_failures.labels(reason).inc()
        return render(
            request,
            "login.html",
            status_code=status_code,
            next=target,
            email=email,
            error=error,
            headers=headers,
            passkey_options=login_options(request),
        )

    wait = ctx.sign_in_throttle.attempt([owner, *others])
    if not wait.allowed:
        retry = {"Retry-After": str(wait.retry_after)}
        return refused("rate_limited", 429, _too_many_attempts(request, wait), retry)

    # The slow password verification runs in a read transaction: on SQLite no writer waits for it.
    with ctx.transaction(write=False) as session:
        check = identity.check_password(session, email, password)
    origin = Origin.of(request)
    if not check.matches:
        _record_failed_sign_in(ctx, check, origin)
        return refused("invalid_credentials", 400, translate(request, INVALID_CREDENTIALS))
    with ctx.transaction() as session:
        user = identity.confirm_sign_in(session, check, password)
        if user is None:
            return refused("invalid_credentials", 400, translate(request, INVALID_CREDENTIALS))
        # With a second factor on, the password only opens the second step; an investor whose
        # operator requires one and a user without any: the password opens its set-up first.
        protection = factors.factors_of(session, user)
        stage = SECOND_FACTOR if protection.any else ENROLL if protection.required else SIGNED_IN
        following = {SECOND_FACTOR: "/login/verify", ENROLL: "/login/enroll"}.get(stage)
        where = f"{following}?next={quote(target, safe='')}" if following else target
        response = RedirectResponse(where, status_code=303)
        start_session(session, request, response, user, stage=stage)
        if stage == SIGNED_IN:
            signed_in_effects(request, response, session, user, "password")
    # After the commit: the counters may live in the same database, in a transaction of their own.
    ctx.sign_in_throttle.succeeded(owner, others)
    logger.info("sign-in", extra={"fields": {"user_id": user.id, "stage": stage}})
    return response


def signed_in_effects(
    request: Request, response: Response, session: Session, user: User, method: str
) -> None:
    """What a finished sign-in does besides the session (in its transaction): record the event
    (a browser without this account's device cookie has not signed in as it before, and the
    owners hear of it) and make the browser a known device of the account (spiko.auth.throttle).
    A sign-in still waiting for its second step does neither."""
    ctx = app_context(request)
    settings = ctx.settings
    account = throttle.account_key(user.email)
    device = throttle.known_device(settings.secret_key, request.cookies.get(throttle.DEVICE_COOKIE), account)
    security_events.record(
        session,
        user.investor_id,
        user.id,
        security_events.SIGN_IN,
        {"new_device": device is None, "method": method},
        Origin.of(request),
        mailer=ctx.mailer,
    )
    response.set_cookie(
        throttle.DEVICE_COOKIE,
        throttle.device_cookie(settings.secret_key, account),
        max_age=throttle.DEVICE_COOKIE_LIFETIME_SECONDS,
        path="/login",
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )


def _record_failed_sign_in(ctx: AppContext, check: identity.PasswordCheck, origin: Origin) -> None:
    """A wrong password for an existing user shows on their investor's activity page (an unknown
    email is recorded nowhere: there is no account to tell)."""
    if check.user_id is None:
        return
    with ctx.transaction() as session:
        investor_id = session.scalar(select(User.investor_id).where(User.id == check.user_id))
        if investor_id is not None:
            security_events.record(
                session, investor_id, check.user_id, security_events.SIGN_IN_FAILED, {}, origin
            )


@router.post("/logout")
def logout(
    request: Request, session: WriteSession, csrf_token: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    if not csrf_valid(request, csrf_token):
        return csrf_refused(request)
    response = RedirectResponse("/login", status_code=303)
    end_session(session, request, response)
    return response


def _integrations_page(
    request: Request,
    user: SignedInUser,
    *,
    status_code: int = 200,
    created: identity.CreatedApiKey | None = None,
    error: str | None = None,
    notice: str | None = None,
    name: str = "",
    access: str = "full",
    chosen: list[str] | None = None,
) -> Response:
    with app_context(request).transaction(write=False) as session:
        keys = identity.list_api_keys(session, user.investor_id)
    return render(
        request,
        "integrations.html",
        status_code=status_code,
        user=user,
        keys=keys,
        created=created,
        error=error,
        notice=notice,
        name=name,
        max_keys=app_context(request).settings.max_api_keys_per_investor,
        access=access,
        chosen=chosen or [],
        families=api_scopes.FAMILIES,
        # What this member's role lets them give a key, and whose keys they may revoke (spiko.auth.roles).
        full_allowed=roles.reach(user.role) is None,
        allowed_scopes=roles.allowed_scopes(user.role),
        can_revoke_all=roles.holds(user.role, roles.MANAGE),
        access_label=api_scopes.label,
    )


@router.get("/integrations")
def integrations(request: Request) -> Response:
    user = signed_in(request)
    if user is None:
        return to_login(request)
    return _integrations_page(request, user)


@router.post("/integrations")
def change_keys(
    request: Request,
    name: Annotated[str, Form(max_length=1000)] = "",
    revoke: Annotated[str, Form(max_length=100)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    access: Annotated[str, Form(max_length=10)] = "full",
    scope: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Create a key (field ``name``; ``access`` full, read or custom with ``scope`` fields) or
    revoke one (field ``revoke`` = its client_id)."""
    user = signed_in_form(request, csrf_token)
    if isinstance(user, Response):
        return user
    if revoke:
        return _revoke_key(request, user, revoke)
    if (again := require_recent_factor(request, user, back_to="/integrations")) is not None:
        return again
    ctx = app_context(request)
    chosen = (scope or [])[: len(api_scopes.API_SCOPES)]
    scopes = {"full": None, "read": [api_scopes.READ], "custom": chosen}.get(access, chosen)
    try:
        with ctx.transaction() as session:
            created = identity.create_api_key(
                session,
                ctx.api_keys,
                investor_id=user.investor_id,
                name=name,
                max_live_keys=ctx.settings.max_api_keys_per_investor,
                scopes=scopes,
                created_by_user_id=user.user_id,
                creator_role=user.role,
            )
            security_events.record(
                session,
                user.investor_id,
                user.user_id,
                security_events.API_KEY_CREATED,
                {
                    "name": created.name,
                    "client_id": created.client_id,
                    "access": api_scopes.label(created.scopes),
                },
                Origin.of(request),
                mailer=ctx.mailer,
            )
    except ApiError as refused:
        return _integrations_page(
            request,
            user,
            status_code=400,
            error=translate(request, str(refused)),  # the API's words; translated where the catalog has them
            name=name,
            access=access,
            chosen=chosen,
        )
    logger.info("api key created", extra={"fields": {"client_id": created.client_id}})
    return _integrations_page(request, user, created=created)


def _revoke_key(request: Request, user: SignedInUser, client_id: str) -> Response:
    ctx = app_context(request)
    try:
        with ctx.transaction() as session:
            # Admins and owners revoke any of the investor's keys; other members only their own.
            mine_only = None if roles.holds(user.role, roles.MANAGE) else user.user_id
            key = identity.revoke_api_key(
                session, client_id=client_id, investor_id=user.investor_id, created_by_user_id=mine_only
            )
            name = key.name
            security_events.record(
                session,
                user.investor_id,
                user.user_id,
                security_events.API_KEY_REVOKED,
                {"name": name, "client_id": client_id},
                Origin.of(request),
            )
    except ApiError:
        return _integrations_page(
            request, user, status_code=404, error=translate(request, "No such API key.")
        )
    # After the commit: from now on this process refuses the key (other workers within the TTL).
    ctx.api_keys.invalidate(client_id)
    logger.info("api key revoked", extra={"fields": {"client_id": client_id}})
    return _integrations_page(
        request, user, notice=translate(request, "API key “%(name)s” was revoked.", name=name)
    )
