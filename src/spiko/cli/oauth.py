"""``spiko oauth-clients`` (third-party apps) and ``spiko keys`` (ID token signing keys)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from spiko.cli.common import command, context, group


def register(commands: Any) -> None:
    clients = group(commands, "oauth-clients", "third-party apps using OAuth 2.0")
    create = command(
        clients, "create", "register an app; prints its secret once (null for --public)", create_client
    )
    create.add_argument("--name", required=True)
    create.add_argument(
        "--redirect-uri",
        dest="redirect_uris",
        action="append",
        required=True,
        help="exact redirect URI; repeat for several",
    )
    create.add_argument(
        "--public", action="store_true", help="no secret; PKCE required (native and SPA apps)"
    )
    create.add_argument("--jwks", metavar="FILE", help="public JWK Set for private_key_jwt (then no secret)")
    create.add_argument("--jwks-uri", metavar="URL", help="where the app publishes its JWK Set")
    create.add_argument(
        "--fapi", action="store_true", help="FAPI 2.0: PAR, PKCE S256, DPoP and private_key_jwt required"
    )
    create.add_argument("--dpop-only", action="store_true", help="tokens must be DPoP-bound (RFC 9449)")
    create.add_argument(
        "--require-par", action="store_true", help="authorization requests must be pushed (RFC 9126)"
    )
    create.add_argument(
        "--id-token-alg",
        choices=["RS256", "ES256", "PS256"],
        help="how its ID tokens are signed (default: ES256 for --fapi, else RS256)",
    )
    listing = command(clients, "list", "list registered apps (never a secret)", list_clients)
    listing.add_argument("--all", action="store_true", help="include revoked apps")
    revoke = command(clients, "revoke", "revoke an app and every token it holds", revoke_client)
    revoke.add_argument("client_id")

    keys = group(commands, "keys", "ID token signing keys")
    command(
        keys, "rotate", "sign with a new key; the old one stays published until its tokens expire", rotate
    )
    command(keys, "list", "list signing keys (public part only)", list_keys)


def create_client(args: argparse.Namespace) -> dict[str, str | None]:
    from spiko.auth.oauth.clients import register_client
    from spiko.auth.oauth.registration import ClientOptions, read_jwks_file

    options = ClientOptions(
        fapi=args.fapi,
        dpop_only=args.dpop_only,
        require_par=args.require_par,
        jwks=read_jwks_file(args.jwks) if args.jwks else None,
        jwks_uri=args.jwks_uri,
        id_token_alg=args.id_token_alg,
    )
    from spiko.services import audit

    with context() as ctx, ctx.transaction() as session:
        created = register_client(
            session, name=args.name, redirect_uris=args.redirect_uris, public=args.public, options=options
        )
        audit.record(
            session,
            action="oauth_client.create",
            subject=f"oauth_client:{created.client_id}",
            details={
                "name": args.name,
                "redirectUris": args.redirect_uris,
                "public": args.public,
                "fapi": args.fapi,
                "dpopOnly": args.dpop_only,
                "requirePar": args.require_par,
                "jwksUri": args.jwks_uri,
            },
        )
        return {"client_id": created.client_id, "client_secret": created.client_secret}


def list_clients(args: argparse.Namespace) -> list[dict[str, Any]]:
    from spiko.auth.oauth.clients import list_clients

    with context() as ctx, ctx.transaction(write=False) as session:
        return list_clients(session, include_revoked=args.all)


def revoke_client(args: argparse.Namespace) -> None:
    from spiko.auth.oauth.clients import revoke_client
    from spiko.services import audit

    with context() as ctx:
        with ctx.transaction() as session:
            revoke_client(session, args.client_id)
            audit.record(session, action="oauth_client.revoke", subject=f"oauth_client:{args.client_id}")
        # After the commit: with Redis, every server worker drops its cached tokens now (without
        # it, within the one-second life of their cache entries).
        ctx.invalidations.publish("oauth_tokens")
    print(f"revoked {args.client_id}", file=sys.stderr)


def rotate(args: argparse.Namespace) -> dict[str, Any]:
    from spiko.auth.oauth.keys import KeyRing
    from spiko.services import audit

    with context() as ctx, ctx.transaction() as session:
        rotated = KeyRing(ctx.settings).rotate(session)
        audit.record(
            session,
            action="signing_keys.rotate",
            subject=f"signing_key:{rotated['kid']}",
            details={"kids": rotated["kids"], "retired": rotated["retired"]},
        )
        return rotated


def list_keys(args: argparse.Namespace) -> list[dict[str, Any]]:
    from spiko.auth.oauth.keys import KeyRing

    with context() as ctx, ctx.transaction(write=False) as session:
        return KeyRing(ctx.settings).list_keys(session)
