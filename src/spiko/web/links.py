"""Pages the links sent by mail open: an invitation, a password reset, an email verification.

Opening a link only shows a form (mail scanners fetch links; a GET changes nothing); the form's
POST uses the link up. An unknown, used or expired link gets a page that says so and changes
nothing. The reset request answers the same words whether or not the email has an account.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from spiko.auth.sessions import csrf_valid, start_session
from spiko.i18n import N_
from spiko.services import members
from spiko.services.members import LinkRefused, MemberError
from spiko.services.security_events import Origin
from spiko.web.rendering import render, translate
from spiko.web.routes import app_context, csrf_refused

router = APIRouter(include_in_schema=False)
logger = logging.getLogger("spiko.web")

PASSWORDS_DIFFER = N_("The two passwords differ.")
RESET_SENT = N_(
    "If an account uses this address, a link to choose a new password is on its way. "
    "It works once and for a limited time; check your spam folder if nothing arrives."
)


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
    with app_context(request).transaction(write=False) as session:
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


def _new_password(
    request: Request,
    token: str,
    csrf_token: str,
    passwords: tuple[str, str],
    page: Callable[..., Response],
    change: Callable[[Session], Response],
) -> Response:
    """A form that sets a password from an emailed link: the passwords typed twice must agree;
    ``change`` runs in one transaction; a refused link or password shows ``page`` again."""
    if not csrf_valid(request, csrf_token):
        return csrf_refused(request)
    if passwords[0] != passwords[1]:
        return page(request, token, error=translate(request, PASSWORDS_DIFFER), status_code=400)
    try:
        with app_context(request).transaction() as session:
            return change(session)
    except LinkRefused as refused:
        return _refused_link(request, refused)
    except MemberError as refused:
        return page(request, token, error=translate(request, str(refused.fields["reason"])), status_code=400)


@router.post("/invitations/{token}")
def accept_invitation(
    request: Request,
    token: str,
    password: Annotated[str, Form(max_length=1024)] = "",
    password_again: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    def accept(session: Session) -> Response:
        user = members.accept_invitation(session, token, password, origin=Origin.of(request))
        response = RedirectResponse("/", status_code=303)
        start_session(session, request, response, user)
        logger.info("member joined", extra={"fields": {"user_id": user.id}})
        return response

    return _new_password(request, token, csrf_token, (password, password_again), _invitation_page, accept)


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
    ctx = app_context(request)
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
    with app_context(request).transaction(write=False) as session:
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
    ctx = app_context(request)

    def reset(session: Session) -> Response:
        members.reset_password(session, ctx.mailer, token, password, origin=Origin.of(request))
        return _password_changed(request)

    return _new_password(request, token, csrf_token, (password, password_again), _reset_page, reset)


def _password_changed(request: Request) -> Response:
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
    with app_context(request).transaction(write=False) as session:
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
        with app_context(request).transaction() as session:
            user = members.verify_email(session, token, origin=Origin.of(request))
            email = user.email
    except LinkRefused as refused:
        return _refused_link(request, refused)
    return render(request, "verify_email.html", email=email, done=True)
