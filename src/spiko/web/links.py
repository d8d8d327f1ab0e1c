"""Pages the links sent by mail open: an invitation, a password reset, an email verification.

Opening a link only shows a form (mail scanners fetch links; a GET changes nothing); the form's
POST uses the link up. An unknown, used or expired link gets a page that says so and changes
nothing. The reset request answers the same words whether or not the email has an account.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from spiko.auth.sessions import csrf_valid, start_session
from spiko.context import AppContext
from spiko.i18n import N_
from spiko.services import members
from spiko.services.members import LinkRefused, MemberError
from spiko.services.security_events import Origin
from spiko.web.rendering import render, translate
from spiko.web.routes import csrf_refused

router = APIRouter(include_in_schema=False)
logger = logging.getLogger("spiko.web")

PASSWORDS_DIFFER = N_("The two passwords differ.")
RESET_SENT = N_(
    "If an account uses this address, a link to choose a new password is on its way. "
    "It works once and for a limited time; check your spam folder if nothing arrives."
)


def _ctx(request: Request) -> AppContext:
    return request.app.state.ctx  # type: ignore[no-any-return]


def _refused_link(request: Request, refused: LinkRefused) -> Response:
    return render(
        request,
        "error.html",
        status_code=400,
        title=translate(request, "This link cannot be used"),
        message=translate(request, refused.reason),
    )


# --- invitations ------------------------------------------------------------------------------


def _invitation_page(
    request: Request, token: str, *, error: str | None = None, status_code: int = 200
) -> Response:
    with _ctx(request).transaction(write=False) as session:
        try:
            link, investor = members.invitation_for(session, token)
        except LinkRefused as refused:
            return _refused_link(request, refused)
        return render(
            request,
            "invitation.html",
            status_code=status_code,
            investor_name=investor.name,
            email=link.email,
            role=link.role,
            error=error,
        )


@router.get("/invitations/{token}")
def invitation(request: Request, token: str) -> Response:
    return _invitation_page(request, token)


@router.post("/invitations/{token}")
def accept_invitation(
    request: Request,
    token: str,
    password: Annotated[str, Form(max_length=1024)] = "",
    password_again: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    if not csrf_valid(request, csrf_token):
        return csrf_refused(request)
    if password != password_again:
        return _invitation_page(request, token, error=translate(request, PASSWORDS_DIFFER), status_code=400)
    ctx = _ctx(request)
    try:
        with ctx.transaction() as session:
            user = members.accept_invitation(session, token, password, origin=Origin.of(request))
            response = RedirectResponse("/", status_code=303)
            start_session(session, request, response, user)
    except LinkRefused as refused:
        return _refused_link(request, refused)
    except MemberError as refused:
        return _invitation_page(
            request, token, error=translate(request, str(refused.fields["reason"])), status_code=400
        )
    logger.info("member joined", extra={"fields": {"user_id": user.id}})
    return response


# --- password reset ---------------------------------------------------------------------------


@router.get("/password-reset")
def password_reset_request_page(request: Request) -> Response:
    return render(request, "password_reset_request.html", sent=False, email="")


@router.post("/password-reset")
def password_reset_request(
    request: Request,
    email: Annotated[str, Form(max_length=320)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    if not csrf_valid(request, csrf_token):
        return csrf_refused(request)
    ctx = _ctx(request)
    origin = Origin.of(request)
    # Limited per address, so nobody fills a stranger's mailbox from here.
    if ctx.rate_limiter.hit(f"password-reset:{origin.ip}", 10, 3600).allowed:
        with ctx.transaction() as session:
            members.request_password_reset(
                session, ctx.mailer, email, ttl_seconds=ctx.settings.password_reset_ttl_seconds, origin=origin
            )
    return render(
        request, "password_reset_request.html", sent=True, email="", notice=translate(request, RESET_SENT)
    )


def _reset_page(
    request: Request, token: str, *, error: str | None = None, status_code: int = 200
) -> Response:
    with _ctx(request).transaction(write=False) as session:
        try:
            link = members.find_link(session, members.PASSWORD_RESET, token)
        except LinkRefused as refused:
            return _refused_link(request, refused)
        return render(request, "password_reset.html", status_code=status_code, email=link.email, error=error)


@router.get("/password-reset/{token}")
def password_reset_page(request: Request, token: str) -> Response:
    return _reset_page(request, token)


@router.post("/password-reset/{token}")
def password_reset(
    request: Request,
    token: str,
    password: Annotated[str, Form(max_length=1024)] = "",
    password_again: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    if not csrf_valid(request, csrf_token):
        return csrf_refused(request)
    if password != password_again:
        return _reset_page(request, token, error=translate(request, PASSWORDS_DIFFER), status_code=400)
    ctx = _ctx(request)
    try:
        with ctx.transaction() as session:
            members.reset_password(session, ctx.mailer, token, password, origin=Origin.of(request))
    except LinkRefused as refused:
        return _refused_link(request, refused)
    except MemberError as refused:
        return _reset_page(
            request, token, error=translate(request, str(refused.fields["reason"])), status_code=400
        )
    return render(
        request,
        "login.html",
        next="/",
        email="",
        error=None,
        notice=translate(
            request,
            "Your password was changed and every browser signed in with it was signed out. "
            "Sign in with the new password.",
        ),
    )


# --- email verification -----------------------------------------------------------------------


@router.get("/verify-email/{token}")
def verify_email_page(request: Request, token: str) -> Response:
    with _ctx(request).transaction(write=False) as session:
        try:
            link = members.find_link(session, members.EMAIL_VERIFICATION, token)
        except LinkRefused as refused:
            return _refused_link(request, refused)
        return render(request, "verify_email.html", email=link.email, done=False)


@router.post("/verify-email/{token}")
def verify_email(
    request: Request, token: str, csrf_token: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    if not csrf_valid(request, csrf_token):
        return csrf_refused(request)
    try:
        with _ctx(request).transaction() as session:
            user = members.verify_email(session, token, origin=Origin.of(request))
            email = user.email
    except LinkRefused as refused:
        return _refused_link(request, refused)
    return render(request, "verify_email.html", email=email, done=True)
