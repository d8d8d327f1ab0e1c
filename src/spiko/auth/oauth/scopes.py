"""The scopes this server grants, and what each lets an app do."""

from __future__ import annotations

from authlib.oauth2.rfc6749.util import scope_to_list

from spiko.auth import scopes as api_scopes
from spiko.i18n import N_

OFFLINE_SCOPES = frozenset({"offline", "offline_access"})
# The investor-API scopes narrow a grant (``spiko.auth.scopes``); asking for none is full access.
SUPPORTED_SCOPES = ["offline_access", "offline", "openid", *api_scopes.API_SCOPES]

# What the consent page tells the investor about the scopes that are not the investor API's
# (those are described by ``spiko.auth.scopes.describe``): how and how long.
DESCRIPTIONS = {
    "openid": N_("Confirm who you are (your Spiko user identifier)."),
    "offline": N_("Keep access while you are away, until you revoke it (refresh tokens)."),
    "offline_access": N_("Keep access while you are away, until you revoke it (refresh tokens)."),
}


def normalize(scope: str | None) -> str:
    """A scope string with each scope once, in a stable order."""
    return " ".join(sorted(set(scope_to_list(scope) or [])))


def scope_set(scope: str | None) -> frozenset[str]:
    return frozenset(scope_to_list(scope) or [])


def grants_offline_access(scope: str | None) -> bool:
    return bool(scope_set(scope) & OFFLINE_SCOPES)


def describe(scope: str | None) -> list[str]:
    seen: list[str] = []
    for name in sorted(scope_set(scope)):
        text = DESCRIPTIONS.get(name)
        if text and text not in seen:
            seen.append(text)
    return seen
