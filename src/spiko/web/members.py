"""The members page (``/settings/members``) and the activity page (``/activity``).

Every member sees who the members are; owners invite, change roles and remove (the page guard
refuses the form to anyone else). Each change is a security event on ``/activity``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from spiko.auth import roles
from spiko.auth.oauth.runtime import oauth_server
from spiko.auth.sessions import SignedInUser
from spiko.auth.stepup import require_recent_factor
from spiko.errors import ApiError
from spiko.services import identity, members, security_events
from spiko.services.security_events import Origin
from spiko.web.rendering import render, translate, translate_plural
from spiko.web.routes import app_context, signed_in, signed_in_form, to_login

router = APIRouter(include_in_schema=False)

PATH = "/settings/members"
ACTIVITY_PAGE_SIZE = 100


def _page(
    request: Request,
    user: SignedInUser,
    *,
    status_code: int = 200,
    notice: str | None = None,
    error: str | None = None,
    email: str = "",
    role: str = roles.VIEWER,
) -> Response:
    with app_context(request).transaction(write=False) as session:
        people = members.list_members(session, user.investor_id)
        invitations = members.pending_invitations(session, user.investor_id)
    me = next((person for person in people if person.id == user.user_id), None)
    return render(
        request,
        "settings_members.html",
        status_code=status_code,
        user=user,
        me=me,
        members=people,
        invitations=invitations,
        roles=roles.ROLES,
        role_descriptions=roles.ROLE_DESCRIPTIONS,
        can_manage=roles.holds(user.role, roles.MEMBERS),
        notice=notice,
        error=error,
        email=email,
        chosen_role=role,
    )


@router.get(PATH)
def members_page(request: Request) -> Response:
    user = signed_in(request)
    if user is None:
        return to_login(request)
    return _page(request, user)


@router.post(PATH)
def change_members(
    request: Request,
    action: Annotated[str, Form(max_length=20)] = "",
    email: Annotated[str, Form(max_length=320)] = "",
    role: Annotated[str, Form(max_length=16)] = "",
    member_id: Annotated[str, Form(max_length=64)] = "",
    invitation_id: Annotated[str, Form(max_length=64)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """``action`` is ``invite`` (email, role), ``role`` (member_id, role), ``remove`` (member_id)
    or ``cancel`` (invitation_id). Owners only (``roles.PAGE_PERMISSIONS``); an old check of the
    owner asks again first (spiko.auth.stepup)."""
    user = signed_in_form(request, csrf_token)
    if isinstance(user, Response):
        return user
    if (again := require_recent_factor(request, user, back_to=PATH)) is not None:
        return again
    ctx = app_context(request)
    origin = Origin.of(request)
    try:
        with ctx.transaction() as session:
            if action == "invite":
                members.invite(
                    session,
                    ctx.mailer,
                    investor_id=user.investor_id,
                    invited_by=user.user_id,
                    email=email,
                    role=role,
                    ttl_seconds=ctx.settings.invitation_ttl_seconds,
                    origin=origin,
                )
                notice = translate(
                    request, "An invitation was sent to %(email)s.", email=identity.normalize_email(email)
                )
            elif action == "role":
                changed = members.change_role(
                    session,
                    investor_id=user.investor_id,
                    actor_id=user.user_id,
                    member_id=member_id,
                    role=role,
                    origin=origin,
                )
                notice = translate(
                    request,
                    "%(email)s is now %(role)s.",
                    email=changed.email,
                    role=translate(request, changed.role),
                )
            elif action == "remove":
                removed = members.remove_member(
                    session,
                    investor_id=user.investor_id,
                    actor_id=user.user_id,
                    member_id=member_id,
                    origin=origin,
                )
                notice = translate(
                    request, "%(email)s was removed and signed out everywhere.", email=removed.email
                )
                if removed.revoked_client_ids:
                    notice += " " + translate_plural(
                        request,
                        "%(num)s API key they created was revoked.",
                        "%(num)s API keys they created were revoked.",
                        len(removed.revoked_client_ids),
                    )
            elif action == "cancel":
                canceled = members.cancel_invitation(
                    session,
                    investor_id=user.investor_id,
                    invitation_id=invitation_id,
                    actor_id=user.user_id,
                    origin=origin,
                )
                notice = translate(request, "The invitation to %(email)s was canceled.", email=canceled)
            else:
                return _page(request, user, status_code=400, error=translate(request, "Unknown action."))
    except ApiError as refused:
        status = 404 if refused.status == 404 else 400
        message = str(refused.fields.get("reason") or refused.fields.get("message") or refused)
        return _page(request, user, status_code=status, error=message, email=email, role=role or roles.VIEWER)
    if action == "remove":
        # After the commit: this process forgets the removed member's keys and tokens at once,
        # the other workers within their caches' second.
        for client_id in removed.revoked_client_ids:
            ctx.api_keys.invalidate(client_id)
        oauth_server(ctx).access_tokens.clear()
        if member_id == user.user_id:
            return to_login(request)
    return _page(request, user, notice=notice)


@router.post(PATH + "/verify-email")
def send_verification(request: Request, csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Mail the signed-in member a link that confirms their address."""
    user = signed_in_form(request, csrf_token)
    if isinstance(user, Response):
        return user
    ctx = app_context(request)
    with ctx.transaction() as session:
        sent = members.send_email_verification(
            session, ctx.mailer, user.user_id, ttl_seconds=ctx.settings.email_verification_ttl_seconds
        )
    notice = (
        translate(request, "A confirmation link was sent to %(email)s.", email=user.email)
        if sent
        else translate(request, "Your address is already confirmed.")
    )
    return _page(request, user, notice=notice)


@router.get("/activity")
def activity_page(request: Request) -> Response:
    """Security activity: admins and owners see every member's, others their own."""
    user = signed_in(request)
    if user is None:
        return to_login(request)
    everyone = roles.holds(user.role, roles.MANAGE)
    with app_context(request).transaction(write=False) as session:
        events = security_events.list_events(
            session,
            user.investor_id,
            limit=ACTIVITY_PAGE_SIZE,
            user_id=None if everyone else user.user_id,
        )
    return render(request, "activity.html", user=user, events=events, everyone=everyone)
