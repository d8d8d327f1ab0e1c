"""Cache invalidations told to every process at once, through Redis publish/subscribe.

Each process keeps short-lived caches on the request path (API keys, OAuth access tokens), and
each bounds its staleness on its own: an entry lives one second at most. That bound is what
holds when nothing else does. With ``SPIKO_REDIS_URL`` set, a revocation does better: once it
is committed, the process that made it publishes it on one channel, and every server process
that listens drops the entry when the message arrives, without waiting for the second to pass.

- ``publish(topic, key)`` applies the invalidation here first, then publishes it. A failed
  publish is logged and otherwise ignored: the one-second bound still holds.
- ``start()`` runs a listener thread (server workers do; the CLI only publishes). Messages from
  this process are skipped, having been applied already. When the subscription is lost, the
  listener reconnects with backoff and then clears every cache it serves, since messages sent
  meanwhile are lost.
- Handlers are registered per topic by the caches themselves: ``on(topic, invalidate, clear)``.

Messages are JSON objects ``{"topic": …, "key": …, "origin": …}``; keys are public identifiers
(API key client ids), never secrets, and a topic with an empty key means "everything".
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger("spiko.invalidation")

CHANNEL = "spiko:invalidations"  # with the default SPIKO_REDIS_PREFIX


@dataclass(frozen=True)
class _Handler:
    invalidate: Callable[[str], None]
    clear: Callable[[], None]


class Invalidations:
    def __init__(self, redis_url: str | None, channel: str = CHANNEL) -> None:
        self.channel = channel
        self.origin = secrets.token_hex(8)
        self._redis_url = redis_url
        self._redis: Any = None
        self._handlers: dict[str, list[_Handler]] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._subscribed = threading.Event()
        self.on_received: Callable[[str], None] | None = None  # metrics hook: called per applied message

    @property
    def client_name(self) -> str:
        return f"spiko-invalidations-{self.origin}"

    @property
    def shared(self) -> bool:
        return self._redis_url is not None

    def _client(self) -> Any:
        with self._lock:
            if self._redis is None:
                self._redis = self._connect()
            return self._redis

    def _connect(self) -> Any:
        import redis

        if self._redis_url is None:
            raise RuntimeError("invalidations are process-local: no Redis URL is configured")
        return redis.Redis.from_url(
            self._redis_url,
            socket_connect_timeout=1.0,
            socket_timeout=2.0,
            health_check_interval=10,
            client_name=self.client_name,  # shows in CLIENT LIST, per process
        )

    def on(self, topic: str, invalidate: Callable[[str], None], clear: Callable[[], None]) -> None:
        with self._lock:
            self._handlers.setdefault(topic, []).append(_Handler(invalidate, clear))

    def _apply(self, topic: str, key: str) -> None:
        with self._lock:
            handlers = list(self._handlers.get(topic, ()))
        for handler in handlers:
            if key:
                handler.invalidate(key)
            else:
                handler.clear()

    def _clear_all(self) -> None:
        with self._lock:
            handlers = [handler for group in self._handlers.values() for handler in group]
        for handler in handlers:
            handler.clear()

    def publish(self, topic: str, key: str = "") -> None:
        """Invalidate here now, and in every listening process as soon as the message reaches it."""
        self._apply(topic, key)
        if not self.shared:
            return
        message = json.dumps({"topic": topic, "key": key, "origin": self.origin})
        try:
            self._client().publish(self.channel, message)
        except Exception as error:  # the one-second cache bound still holds everywhere
            logger.warning(
                "could not publish a cache invalidation",
                extra={"fields": {"topic": topic, "error": str(error)}},
            )

    # -- the listener ------------------------------------------------------------------------------

    def start(self) -> None:
        if not self.shared or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._listen_forever, name="spiko-invalidations", daemon=True)
        self._thread.start()

    def wait_until_subscribed(self, timeout: float) -> bool:
        return self._subscribed.wait(timeout)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        with self._lock:
            client, self._redis = self._redis, None
        if client is not None:
            client.close()

    def _listen_forever(self) -> None:
        backoff = 0.1
        subscriptions = 0
        failures = 0  # in a row: one warning per outage, not one per retry
        while not self._stop.is_set():
            pubsub = None
            try:
                pubsub = self._client().pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self.channel)
                pubsub.get_message(timeout=1.0)  # the subscription's confirmation
                # Messages published while this process was not subscribed are gone: start clean.
                self._clear_all()
                subscriptions += 1
                if subscriptions > 1:
                    logger.info("cache invalidations: subscribed again, caches cleared")
                backoff, failures = 0.1, 0
                self._subscribed.set()
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=0.5)
                    if message is not None and message.get("type") == "message":
                        self._received(message["data"])
            except Exception as error:
                self._subscribed.clear()
                if self._stop.is_set():
                    break
                failures += 1
                logger.log(
                    logging.WARNING if failures == 1 else logging.DEBUG,
                    "cache invalidations: not subscribed, retrying (caches still expire within a second)",
                    extra={"fields": {"error": str(error), "retry_in_seconds": backoff}},
                )
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                if pubsub is not None:
                    with contextlib.suppress(Exception):  # the connection may already be gone
                        pubsub.close()

    def _received(self, data: bytes | str) -> None:
        try:
            message = json.loads(data)
            topic, key, origin = str(message["topic"]), str(message.get("key", "")), message.get("origin")
        except (ValueError, KeyError, TypeError):
            logger.warning("cache invalidations: unreadable message ignored")
            return
        if origin == self.origin:
            return
        self._apply(topic, key)
        if self.on_received is not None:
            self.on_received(topic)
