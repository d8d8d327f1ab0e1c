"""The application served in-process: an httpx transport that hands each request to the real ASGI app.

``httpx.ASGITransport`` is asynchronous only; the SDK's sync client, its OAuth2Session and the tests'
scripted browser are synchronous. ``AppTransport`` runs the app (and its lifespan: startup and shutdown,
as uvicorn runs them) on an event loop in a thread of its own, and serves both kinds of clients from it:
requests from any thread or event loop reach the one app, concurrently, as they would reach a server.
No socket, no process: the request goes through every middleware, route and error handler the server
runs, at the cost of a function call.
"""

from __future__ import annotations

import contextlib
from typing import Any

import anyio.from_thread
import anyio.to_thread
import httpx


class AppTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    def __init__(self, app: Any, client: tuple[str, int] = ("127.0.0.1", 50000)) -> None:
        self._asgi = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=client)
        self._stack = contextlib.ExitStack()
        self._portal = self._stack.enter_context(anyio.from_thread.start_blocking_portal())
        try:
            self._stack.enter_context(
                self._portal.wrap_async_context_manager(app.router.lifespan_context(app))
            )
        except BaseException:
            self._stack.close()
            raise

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()

        async def send() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
            response = await self._asgi.handle_async_request(request)
            body = b"".join([chunk async for chunk in response.stream])  # type: ignore[union-attr]
            return response.status_code, response.headers.raw, body

        status, headers, body = self._portal.call(send)
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(body), request=request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        return await anyio.to_thread.run_sync(self.handle_request, request)

    def close(self) -> None:
        """Clients close their transport when they close; the app keeps serving the others."""

    async def aclose(self) -> None:
        """As ``close``."""

    def shutdown(self) -> None:
        """Run the app's shutdown and stop its event loop."""
        self._stack.close()
