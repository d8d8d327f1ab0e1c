"""Demo data for ``spiko serve --demo``: reference data, a NAV history and one investor with a login."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from sqlalchemy import func, select

from spiko.config import Settings
from spiko.context import AppContext
from spiko.db.models.identity import Investor
from spiko.services import identity

DEMO_EMAIL = "demo@spiko.local"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - documented demo login, only seeded by --demo


@dataclass(frozen=True)
class DemoSeed:
    seeded: bool
    email: str
    password: str | None
    client_id: str
    client_secret: str


def seed_demo(ctx: AppContext) -> DemoSeed:
    """Seed an empty database; on one that already has data, only issue a fresh demo API key."""
    from spiko.services.seed import seed_demo_funds

    with ctx.transaction() as session:
        empty = not session.scalar(select(func.count()).select_from(Investor))
        if empty:
            investor, user = identity.create_investor(
                session,
                name="Demo Treasury SAS",
                email=DEMO_EMAIL,
                password=DEMO_PASSWORD,
                investor_type="organization",
                country="FR",
                address="1 rue de la Paix",
                zip_code="75002",
                city="Paris",
                registration_number="912345678",
                legal_entity_type="SAS",
            )
            seed_demo_funds(session, investor_id=investor.id)
        else:
            demo_user = identity.find_user_by_email(session, DEMO_EMAIL)
            if demo_user is None:
                raise LookupError("the database is not empty and has no demo investor; use a fresh database")
            user = demo_user
        created = identity.create_api_key(
            session,
            ctx.api_keys,
            investor_id=user.investor_id,
            name="Demo key",
            max_live_keys=ctx.settings.max_api_keys_per_investor,
        )
    return DemoSeed(
        empty, DEMO_EMAIL, DEMO_PASSWORD if empty else None, created.client_id, created.client_secret
    )


def _mail_destination(settings: Settings) -> str:
    from spiko.mail import Mailer

    return Mailer(settings.smtp_url, settings.mail_from, settings.mail_outbox).describe()


def print_demo(seed: DemoSeed, settings: Settings) -> None:
    """Print the demo login and key on stdout (flushed: the server keeps running after it)."""
    out = sys.stdout
    print("", file=out, flush=True)
    print(
        "Demo data " + ("seeded." if seed.seeded else "already present; issued a new demo API key."), file=out
    )
    print(f"Investor app: {settings.issuer}/login", file=out)
    print(f"Demo login:   {seed.email} / {seed.password or '(unchanged)'}", file=out)
    print("Demo API key:", file=out)
    print(f"client_id: {seed.client_id}", file=out)
    print(f"client_secret: {seed.client_secret}", file=out)
    print(f"Try: curl -u '{seed.client_id}:{seed.client_secret}' {settings.issuer}/v1/investors/me", file=out)
    print(f"Mail:         {_mail_destination(settings)}", file=out)
    print("", file=out, flush=True)
