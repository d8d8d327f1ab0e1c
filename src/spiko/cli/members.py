"""``spiko members`` (an investor's members and roles) and ``spiko activity`` (its security events)."""

from __future__ import annotations

import argparse
from typing import Any

from spiko.cli.common import command, context, group


def register(commands: Any) -> None:
    members = group(
        commands, "members", "an investor's members and their roles (owner, admin, trader, viewer)"
    )
    listed = command(
        members, "list", "list the members of the investor a member's email belongs to", list_members
    )
    listed.add_argument("--email", required=True, help="the email of any member of the investor")
    role = command(members, "set-role", "give a member another role (an investor keeps one owner)", set_role)
    role.add_argument("--email", required=True, help="the member's email")
    role.add_argument("--role", required=True, choices=["owner", "admin", "trader", "viewer"])
    invite = command(members, "invite", "mail an invitation to join a member's investor", invite_member)
    invite.add_argument("--email", required=True, help="the email of any member of the investor")
    invite.add_argument("--invite", required=True, metavar="EMAIL", help="the address to invite")
    invite.add_argument("--role", required=True, choices=["owner", "admin", "trader", "viewer"])
    removal = command(
        members, "remove", "remove a member: their sessions end, their API keys are revoked", remove_member
    )
    removal.add_argument("--email", required=True, help="the member's email")

    activity = group(commands, "activity", "an investor's security events")
    shown = command(
        activity, "list", "the security events of a member's investor, newest first", list_activity
    )
    shown.add_argument("--email", required=True, help="the email of any member of the investor")
    shown.add_argument("--limit", type=int, default=50)


def _member(session: Any, email: str) -> Any:
    from spiko.services import identity

    user = identity.find_user_by_email(session, email)
    if user is None:
        raise LookupError(f"no user with email {email}")
    return user


def _shown(user: Any) -> dict[str, Any]:
    return {
        "userId": user.id,
        "email": user.email,
        "role": user.role,
        "emailVerified": user.email_verified_at is not None,
        "createdAt": user.created_at,
    }


def list_members(args: argparse.Namespace) -> list[dict[str, Any]]:
    from spiko.services import members

    with context() as ctx, ctx.transaction(write=False) as session:
        return [
            _shown(user) for user in members.list_members(session, _member(session, args.email).investor_id)
        ]


def set_role(args: argparse.Namespace) -> dict[str, Any]:
    from spiko.services import audit, members, security_events

    with context() as ctx, ctx.transaction() as session:
        user = _member(session, args.email)
        changed = members.change_role(
            session,
            investor_id=user.investor_id,
            actor_id=None,
            member_id=user.id,
            role=args.role,
            origin=security_events.OPERATOR,
        )
        audit.record(
            session,
            action="member.set_role",
            subject=f"user:{changed.email}",
            details={"investorId": changed.investor_id, "role": args.role},
        )
        return _shown(changed)


def invite_member(args: argparse.Namespace) -> dict[str, Any]:
    from spiko.services import audit, members

    with context() as ctx:
        with ctx.transaction() as session:
            user = _member(session, args.email)
            members.invite(
                session,
                ctx.mailer,
                investor_id=user.investor_id,
                invited_by=None,
                email=args.invite,
                role=args.role,
                ttl_seconds=ctx.settings.invitation_ttl_seconds,
            )
            audit.record(
                session,
                action="member.invite",
                subject=f"investor:{user.investor_id}",
                details={"invited": args.invite.strip().lower(), "role": args.role},
            )
        return {"invited": args.invite.strip().lower(), "role": args.role, "mail": ctx.mailer.describe()}


def remove_member(args: argparse.Namespace) -> dict[str, Any]:
    from spiko.auth.oauth.runtime import oauth_server
    from spiko.services import audit, members, security_events

    with context() as ctx:
        with ctx.transaction() as session:
            user = _member(session, args.email)
            removed = members.remove_member(
                session,
                investor_id=user.investor_id,
                actor_id=None,
                member_id=user.id,
                origin=security_events.OPERATOR,
            )
            audit.record(
                session,
                action="member.remove",
                subject=f"user:{removed.email}",
                details={
                    "investorId": user.investor_id,
                    "revokedKeys": removed.revoked_client_ids,
                    "sessionsEnded": removed.sessions_ended,
                },
            )
        for client_id in removed.revoked_client_ids:
            ctx.api_keys.invalidate(client_id)
        oauth_server(ctx).access_tokens.clear()
        return {
            "removed": removed.email,
            "revokedKeys": removed.revoked_client_ids,
            "sessionsEnded": removed.sessions_ended,
        }


def list_activity(args: argparse.Namespace) -> list[dict[str, Any]]:
    from spiko.services import security_events

    with context() as ctx, ctx.transaction(write=False) as session:
        investor_id = _member(session, args.email).investor_id
        return [
            {
                "at": entry.at,
                "kind": entry.kind,
                "member": entry.member,
                "details": entry.details,
                "ip": entry.ip,
                "userAgent": entry.user_agent,
            }
            for entry in security_events.list_events(
                session, investor_id, limit=max(1, min(args.limit, 1000))
            )
        ]
