"""Cross-origin access for browser apps: only on the routes meant for them, only from listed origins.

A single-page app or any other code running in a browser on another origin can use the API only
if the server says so (CORS). ``SPIKO_CORS_ALLOWED_ORIGINS`` lists the origins allowed, exactly
(``https://app.example.com``, comma-separated); it is empty by default, and then no route answers
with CORS headers at all.

When set, CORS applies to what a browser app calls with a token it holds itself:

- the token, revocation and userinfo endpoints, the discovery documents and the JWKS;
- the investor API (``/v1``) and the public API (``/v0``).

Never to the investor app's own pages (sign-in, consent, integrations, authorized apps) nor to
the authorization endpoint, which a browser reaches by navigation, not by script. Credentials
(cookies) are never allowed cross-origin: a browser app authenticates with ``Authorization``,
which it must add itself, so no ambient credential can be used by another site.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from starlette.middleware.cors import CORSMiddleware

CORS_PATHS = ("/oauth2/token", "/oauth2/revoke", "/userinfo", "/.well-known/", "/v1/", "/v0/")
ALLOWED_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key"]
EXPOSED_HEADERS = ["Retry-After", "WWW-Authenticate", "X-Request-Id", "Idempotent-Replayed"]


def parse_origins(raw: str) -> list[str]:
    """``https://a.example, http://127.0.0.1:3000`` -> the origins; anything else is refused."""
    origins = []
    for item in raw.split(","):
        origin = item.strip()
        if not origin:
            continue
        parts = urlsplit(origin)
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or parts.path
            or parts.query
            or parts.fragment
            or parts.username is not None
            or origin != f"{parts.scheme}://{parts.netloc}"
            or origin != origin.lower()
        ):
            raise ValueError(
                f"SPIKO_CORS_ALLOWED_ORIGINS: {origin!r} is not an origin "
                "(scheme://host[:port] in lower case, no path, no wildcard)"
            )
        origins.append(origin)
    return origins


def _served(path: str) -> bool:
    return any(path == prefix.rstrip("/") or path.startswith(prefix) for prefix in CORS_PATHS)


class ScopedCORSMiddleware:
    """Starlette's ``CORSMiddleware`` for the paths in ``CORS_PATHS``; the others pass untouched."""

    def __init__(self, app: Any, origins: list[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=ALLOWED_HEADERS,
            expose_headers=EXPOSED_HEADERS,
            allow_credentials=False,
            max_age=600,
        )

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and _served(scope["path"]):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
