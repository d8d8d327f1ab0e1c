"""``spiko investors`` and ``spiko api-keys``."""

from __future__ import annotations

import argparse
from typing import Any

from spiko.cli.common import command, context, group


def register(commands: Any) -> None:
    investors = group(commands, "investors", "investors and their sign-in")
    create = command(investors, "create", "create an investor with a user who signs in", create_investor)
    create.add_argument("--name", required=True, help="legal name (organization) or full name (individual)")
    create.add_argument("--email", required=True, help="the user's sign-in email (stored lower-cased)")
    create.add_argument("--password", required=True, help="the user's password (at least 8 characters)")
    create.add_argument("--type", choices=["organization", "individual"], default="organization")
    create.add_argument("--country", default="FR", help="ISO 3166-1 alpha-2 code (default FR)")
    create.add_argument("--address", default="", help="street address")
    create.add_argument("--zip-code", default="")
    create.add_argument("--city", default="")
    create.add_argument("--registration-number", help="organizations: company registration number")
    create.add_argument("--legal-entity-type", help="organizations: SAS, SA, GmbH… (default SAS)")
    create.add_argument("--tax-identification-number", help="individuals: tax identification number")
    command(investors, "list", "list the investors and their users' emails", list_investors)
    reset = command(
        investors,
        "set-password",
        "give a user a new password and sign out their browsers; reads it from stdin without --password",
        set_password,
    )
    reset.add_argument("--email", required=True)
    reset.add_argument(
        "--password", help="default: the first line of standard input (kept out of shell history)"
    )

    require = command(
        investors,
        "require-2fa",
        "require a second factor of every user of the investor of this email (--off: stop requiring it)",
        require_second_factor,
    )
    require.add_argument("--email", required=True, help="the email of one of the investor's users")
    require.add_argument("--off", action="store_true", help="no longer require a second factor")
    wipe = command(
        investors,
        "reset-2fa",
        "remove every second factor of a user who lost them all (check who asks first); ends their sessions",
        reset_second_factors,
    )
    wipe.add_argument("--email", required=True)

    keys = group(commands, "api-keys", "API keys (Basic authentication on /v1)")
    key_create = command(keys, "create", "create an API key; prints its secret once", create_api_key)
    key_create.add_argument("--email", required=True)
    key_create.add_argument("--name", default="CLI key")
    key_create.add_argument(
        "--scope",
        dest="scopes",
        action="extend",
        nargs="+",
        metavar="SCOPE",
        help="narrow the key to these scopes (e.g. read, or orders:read orders:write); default: full access",
    )
    key_list = command(keys, "list", "list an investor's active API keys (never a secret)", list_api_keys)
    key_list.add_argument("--email", required=True)
    key_list.add_argument("--all", action="store_true", help="include revoked keys")
    key_revoke = command(keys, "revoke", "revoke an API key", revoke_api_key)
    key_revoke.add_argument("client_id")


def create_investor(args: argparse.Namespace) -> dict[str, str]:
    from spiko.services import audit, identity

    with context() as ctx, ctx.transaction() as session:
        investor, user = identity.create_investor(
            session,
            name=args.name,
            email=args.email,
            password=args.password,
            investor_type=args.type,
            country=args.country,
            address=args.address,
            zip_code=args.zip_code,
            city=args.city,
            registration_number=args.registration_number,
            legal_entity_type=args.legal_entity_type,
            tax_identification_number=args.tax_identification_number,
        )
        audit.record(
            session,
            action="investor.create",
            subject=f"investor:{investor.id}",
            details={
                "name": investor.name,
                "email": user.email,
                "type": investor.type,
                "country": investor.country,
            },
        )
        return {"investorId": investor.id, "email": user.email}


def list_investors(args: argparse.Namespace) -> list[dict[str, Any]]:
    from spiko.services import identity

    with context() as ctx, ctx.transaction(write=False) as session:
        return [
            {
                "investorId": investor.id,
                "name": investor.name,
                "type": investor.type,
                "country": investor.country,
                "emails": sorted(user.email for user in investor.users),
                "createdAt": investor.created_at,
            }
            for investor in identity.list_investors(session)
        ]


def set_password(args: argparse.Namespace) -> dict[str, Any]:
    import sys

    from spiko.services import audit, identity

    password = args.password
    if password is None:
        password = sys.stdin.readline().rstrip("\r\n")
    with context() as ctx, ctx.transaction() as session:
        user, ended = identity.set_password(session, args.email, password)
        audit.record(
            session,
            action="user.set_password",
            subject=f"user:{user.email}",
            details={"investorId": user.investor_id, "sessionsEnded": ended},
        )
        return {"investorId": user.investor_id, "email": user.email, "sessionsEnded": ended}


def require_second_factor(args: argparse.Namespace) -> dict[str, Any]:
    from spiko.services import audit, factors

    with context() as ctx, ctx.transaction() as session:
        user = _user(session, args.email)
        factors.set_required(session, user.investor_id, not args.off)
        audit.record(
            session,
            action="investor.require_second_factor",
            subject=f"investor:{user.investor_id}",
            details={"required": not args.off, "email": user.email},
        )
        return {"investorId": user.investor_id, "secondFactorRequired": not args.off}


def reset_second_factors(args: argparse.Namespace) -> dict[str, Any]:
    from spiko.auth.sessions import end_sessions
    from spiko.services import audit, factors, security_events

    with context() as ctx, ctx.transaction() as session:
        user = _user(session, args.email)
        removed = factors.reset_factors(session, user)
        ended = end_sessions(session, user.id)
        audit.record(
            session,
            action="user.reset_second_factors",
            subject=f"user:{user.email}",
            details={"investorId": user.investor_id, "factorsRemoved": removed, "sessionsEnded": ended},
        )
        if removed:  # the owners hear of it, as of any factor removed
            security_events.record(
                session,
                user.investor_id,
                user.id,
                security_events.FACTOR_REMOVED,
                {"factor": "every second factor, by an operator"},
                mailer=ctx.mailer,
            )
        return {"email": user.email, "factorsRemoved": removed, "sessionsEnded": ended}


def _user(session: Any, email: str) -> Any:
    from spiko.services import identity

    user = identity.find_user_by_email(session, email)
    if user is None:
        raise LookupError(f"no user with email {email}")
    return user


def create_api_key(args: argparse.Namespace) -> dict[str, str]:
    from spiko.services import audit, identity, security_events

    with context() as ctx, ctx.transaction() as session:
        user = _user(session, args.email)
        created = identity.create_api_key(
            session,
            ctx.api_keys,
            investor_id=user.investor_id,
            name=args.name,
            max_live_keys=ctx.settings.max_api_keys_per_investor,
            scopes=args.scopes,
        )
        audit.record(
            session,
            action="api_key.create",
            subject=f"api_key:{created.client_id}",
            details={
                "investorId": user.investor_id,
                "email": user.email,
                "name": args.name,
                "scopes": args.scopes,
            },
        )
        # An operator's key: on the investor's activity, and mailed to its owners.
        security_events.record(
            session,
            user.investor_id,
            None,
            security_events.API_KEY_CREATED,
            {"name": created.name, "client_id": created.client_id, "by": "operator"},
            mailer=ctx.mailer,
        )
        return {"client_id": created.client_id, "client_secret": created.client_secret}


def list_api_keys(args: argparse.Namespace) -> list[dict[str, Any]]:
    from spiko.services import identity

    with context() as ctx, ctx.transaction(write=False) as session:
        user = _user(session, args.email)
        return [
            {
                "client_id": key.client_id,
                "name": key.name,
                "scopes": key.scopes.split() if key.scopes else None,  # None: full access
                "created_at": key.created_at,
                "last_used_at": key.last_used_at,
                "revoked_at": key.revoked_at,
            }
            for key in identity.list_api_keys(session, user.investor_id, include_revoked=args.all)
        ]


def revoke_api_key(args: argparse.Namespace) -> None:
    import sys

    from spiko.services import audit, identity, security_events

    with context() as ctx:
        with ctx.transaction() as session:
            key = identity.revoke_api_key(session, client_id=args.client_id)
            security_events.record(
                session,
                key.investor_id,
                None,
                security_events.API_KEY_REVOKED,
                {"name": key.name, "client_id": key.client_id, "by": "operator"},
            )
            audit.record(session, action="api_key.revoke", subject=f"api_key:{args.client_id}")
        # This process's cache; the server's workers see the revocation within their cache TTL.
        ctx.api_keys.invalidate(args.client_id)
    print(f"revoked {args.client_id}", file=sys.stderr)
