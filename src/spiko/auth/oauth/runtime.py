"""One authorization server per application context, built on first use."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spiko.auth.oauth.server import AuthorizationServer
    from spiko.context import AppContext

_ATTRIBUTE = "_oauth_server"
_lock = threading.Lock()


def oauth_server(ctx: AppContext) -> AuthorizationServer:
    server: AuthorizationServer | None = ctx.__dict__.get(_ATTRIBUTE)
    if server is None:
        with _lock:
            server = ctx.__dict__.get(_ATTRIBUTE)
            if server is None:
                from spiko.auth.oauth.server import AuthorizationServer

                server = AuthorizationServer(ctx)
                ctx.__dict__[_ATTRIBUTE] = server
    return server


async def close_resource_replay(ctx: AppContext) -> None:
    """At shutdown: close the connection this event loop keeps for /v1 proofs, if one was made."""
    server: AuthorizationServer | None = ctx.__dict__.get(_ATTRIBUTE)
    if server is not None:
        await server.resource_replay.aclose()
