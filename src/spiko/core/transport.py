"""HTTP Strict Transport Security (RFC 6797) when the server is published over https."""

from __future__ import annotations

from typing import Any

# A year, as browsers' preload lists expect; subdomains are the operator's to decide, not ours.
HSTS = (b"strict-transport-security", b"max-age=31536000")


class StrictTransportSecurityMiddleware:
    """Pure ASGI: every response says the issuer's origin is to be reached over https only.

    Installed only when ``SPIKO_ISSUER`` is an https URL (behind a TLS-terminating proxy the
    server itself may listen in plain http; browsers only heed the header over https).
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_hsts(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), HSTS]
            await send(message)

        await self.app(scope, receive, send_with_hsts)
