"""Consents: what an investor allowed an app, remembered until revoked, and the apps holding access."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from spiko.auth import scopes as api_scopes
from spiko.auth.oauth import scopes
from spiko.auth.oauth.clients import Client
from spiko.db.models.oauth import OAuthClient, OAuthConsent, OAuthGrant
from spiko.db.types import utcnow
from spiko.outbox import snapshots


def has_consent(session: Session, *, investor_id: str, client: Client, scope: str) -> bool:
    """Whether a live consent of this investor to this client covers every requested scope."""
    rows = session.scalars(
        select(OAuthConsent.scope).where(
            OAuthConsent.investor_id == investor_id,
            OAuthConsent.client_pk == client.pk,
            OAuthConsent.revoked_at.is_(None),
        )
    ).all()
    # By what the scopes reach: a consent to some families never covers a request for full access.
    return any(api_scopes.covers(granted, scope) for granted in rows)


def remember_consent(session: Session, *, investor_id: str, user_id: str, client: Client, scope: str) -> None:
    live = session.scalars(
        select(OAuthConsent).where(
            OAuthConsent.investor_id == investor_id,
            OAuthConsent.client_pk == client.pk,
            OAuthConsent.revoked_at.is_(None),
        )
    ).all()
    merged = scopes.normalize(scope)
    for row in live:
        merged = api_scopes.merge(merged, row.scope)
        row.revoked_at = utcnow()  # superseded by the merged consent below
    session.add(OAuthConsent(investor_id=investor_id, user_id=user_id, client_pk=client.pk, scope=merged))
    session.flush()
    snapshots.app(
        session,
        "authorized",
        investor_id,
        client_id=client.client_id,
        name=client.name,
        scope=" ".join(sorted(merged)),
    )


@dataclass(frozen=True)
class AuthorizedApp:
    client_pk: str
    client_id: str
    name: str
    scope: str
    authorized_at: datetime
    live_grants: int

    @property
    def descriptions(self) -> list[str]:
        return scopes.describe(self.scope)

    @property
    def access(self) -> list[str]:
        """What the app may do on the investor API, in words; empty for full access."""
        return api_scopes.describe(self.scope)


def authorized_apps(session: Session, investor_id: str) -> list[AuthorizedApp]:
    """Apps that hold a live consent or a live grant for this investor."""
    consents = session.execute(
        select(OAuthConsent.client_pk, OAuthConsent.scope, OAuthConsent.created_at).where(
            OAuthConsent.investor_id == investor_id, OAuthConsent.revoked_at.is_(None)
        )
    ).all()
    grants = session.execute(
        select(
            OAuthGrant.client_pk,
            func.count(OAuthGrant.id),
            func.min(OAuthGrant.created_at),
            func.max(OAuthGrant.scope),
        )
        .where(OAuthGrant.investor_id == investor_id, OAuthGrant.revoked_at.is_(None))
        .group_by(OAuthGrant.client_pk)
    ).all()
    by_client: dict[str, dict[str, Any]] = {}
    for client_pk, scope, created_at in consents:
        by_client[client_pk] = {"scope": scope, "at": created_at, "grants": 0}
    for client_pk, count, first_at, scope in grants:
        entry = by_client.setdefault(client_pk, {"scope": scope, "at": first_at, "grants": 0})
        entry["grants"] = count
    if not by_client:
        return []
    clients = {
        row.id: row
        for row in session.scalars(
            select(OAuthClient).where(OAuthClient.id.in_(list(by_client)), OAuthClient.revoked_at.is_(None))
        )
    }
    apps = [
        AuthorizedApp(
            client_pk=pk,
            client_id=clients[pk].client_id,
            name=clients[pk].name,
            scope=str(entry["scope"] or ""),
            authorized_at=entry["at"],
            live_grants=int(entry["grants"]),
        )
        for pk, entry in by_client.items()
        if pk in clients
    ]
    return sorted(apps, key=lambda app: app.authorized_at, reverse=True)
