"""Structured JSON logs with a request id, Prometheus metrics, and the last line of defence
against unexpected errors, for every HTTP request.

Nothing secret is logged: no header, no query string, no body; only method, path, route
template, status, duration and the request id (an incoming ``X-Request-ID`` is honoured when
it looks like one). Database errors never carry bound parameters (the engine hides them).

With several worker processes (``spiko serve --workers N``), ``PROMETHEUS_MULTIPROC_DIR`` is
set by the server so that ``/metrics`` sums the counters of every worker, whichever answers.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

logger = logging.getLogger("spiko")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": request_id_var.get(),
            "pid": record.process,
        }
        extra = getattr(record, "fields", None)
        if extra:
            entry.update(extra)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("spiko")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False


def uvicorn_log_config(level: str = "WARNING") -> dict[str, Any]:
    """uvicorn's own messages (start-up, shutdown, protocol errors) as JSON lines on stderr too."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"level": level.upper()},
            "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
        },
    }


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "spiko_http_requests_total",
            "HTTP requests by method, route and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "spiko_http_request_duration_seconds",
            "HTTP request latency by route",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.auth_failures = Counter(
            "spiko_auth_failures_total",
            "Refused credentials on the APIs, by scheme and reason",
            ["scheme", "reason"],
            registry=self.registry,
        )
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self.invalidations = Counter(
            "spiko_cache_invalidations_received_total",
            "Cache invalidations received from other processes through Redis, by topic",
            ["topic"],
            registry=self.registry,
        )
        self.login_failures = Counter(
            "spiko_login_failures_total",
            "Refused sign-ins on the investor app, by reason",
            ["reason"],
            registry=self.registry,
        )

    def observe_request(self, method: str, route: str, status: int, elapsed: float) -> None:
        # The labelled children are looked up once per (method, route, status): ``labels()``
        # costs more than the increment itself on the hot path.
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = (
                self.requests.labels(method, route, str(status)),
                self.latency.labels(method, route),
            )
            if len(self._children) < 10_000:  # routes are templates: this stays small
                self._children[key] = children
        children[0].inc()
        children[1].observe(elapsed)

    def render(self) -> bytes:
        """Prometheus text of this process, or of every worker when they share a multiprocess dir."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            collect_workers: Callable[[CollectorRegistry], object] = multiprocess.MultiProcessCollector
            collect_workers(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)


def logged_path(scope: Mapping[str, Any], route: str) -> str:
    """The path the logs show: the raw one, except where it carries a secret (the single-use
    links sent by mail, ``/invitations/{token}``, ``/password-reset/{token}``...): their template."""
    if "{token}" in route:
        return route
    path: str = scope.get("path", "")
    return path[:300]


def route_label(scope: dict[str, Any]) -> str:
    """The route template (``/v1/accounts/{accountId}``), never the raw path: bounded cardinality."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if not isinstance(path, str):
        return "unmatched"
    request_path: str = scope.get("path", "")
    for prefix in ("/v1", "/v0"):
        if request_path.startswith(prefix + "/") and not path.startswith(prefix + "/"):
            return prefix + path
    return path


class AccessLines:
    """The access log: one JSON line per request, written in batches.

    The ``logging`` machinery and a write per line cost more than the rest of a cached API
    call, so lines are buffered and written together: when the oldest waiting line is
    ``max_delay`` seconds old at the next request, and by ``flush()``, which the application
    calls every half second and at shutdown. Each write is at most ``PIPE_BUF``-sized and holds
    whole lines, so lines from several workers sharing one pipe never interleave.
    """

    def __init__(self, fd: int = 2, max_delay: float = 0.5, max_lines: int = 500) -> None:
        self.fd = fd
        self.max_delay = max_delay
        self.max_lines = max_lines
        self._lines: list[str] = []
        self._oldest = 0.0
        self._lock = threading.Lock()

    def write(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry)  # plain values only: the C encoder's fast path
        now = time.monotonic()
        with self._lock:
            if not self._lines:
                self._oldest = now
            self._lines.append(line)
            due = len(self._lines) >= self.max_lines or now - self._oldest >= self.max_delay
        if due:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            lines, self._lines = self._lines, []
        chunk: list[bytes] = []
        size = 0
        try:
            for line in lines:
                data = line.encode() + b"\n"
                if chunk and size + len(data) > 4096:
                    os.write(self.fd, b"".join(chunk))
                    chunk, size = [], 0
                chunk.append(data)
                size += len(data)
            if chunk:
                os.write(self.fd, b"".join(chunk))
        except OSError:
            pass  # a closed or full log pipe must never fail a request


access_lines = AccessLines()


def request_id_of(headers: Iterable[tuple[bytes, bytes]]) -> str:
    """The request's id: the client's ``X-Request-ID`` when it looks like one, else a new one."""
    for name, value in headers:
        if name == b"x-request-id":
            incoming = value.decode("latin-1")
            if REQUEST_ID_RE.match(incoming):
                return incoming
            break
    return os.urandom(16).hex()


ACCESS_LOG = logging.getLogger("spiko.access")


def record_request(
    metrics: Metrics,
    scope: MutableMapping[str, Any],
    route: str,
    status: int,
    elapsed: float,
    request_id: str,
    pid: int,
) -> None:
    """The request's counters, latency and access-log line, once it is answered."""
    method = scope.get("method", "")
    metrics.observe_request(method, route, status, elapsed)
    if ACCESS_LOG.isEnabledFor(logging.INFO):
        access_lines.write(
            {
                "ts": round(time.time(), 3),
                "level": "info",
                "logger": "spiko.access",
                "msg": "request",
                "request_id": request_id,
                "pid": pid,
                "method": method,
                "path": logged_path(scope, route),
                "route": route,
                "status": status,
                "duration_ms": round(elapsed * 1000, 2),
            }
        )


ErrorResponder = Callable[[dict[str, Any], str], tuple[int, list[tuple[bytes, bytes]], bytes]]


class ObservabilityMiddleware:
    """Pure ASGI middleware: request id, access log line, request counters and latency.

    It is also where an unexpected exception ends: logged once (with its traceback, in the
    log only) and answered by ``error_response`` (a 500 naming the request id, no traceback).
    """

    def __init__(self, app: Any, metrics: Metrics, error_response: ErrorResponder) -> None:
        self.app = app
        self.metrics = metrics
        self.error_response = error_response
        self.error_log = logging.getLogger("spiko.errors")
        self.pid = os.getpid()  # which worker answered: each worker builds its own app

    async def __call__(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[Any]],
        send: Callable[..., Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope.get("headers", ()))
        token = request_id_var.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        request_id_header = (b"x-request-id", request_id.encode())
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_wrapper(message: dict[str, Any]) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                message["headers"] = [*message.get("headers", ()), request_id_header]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            self.error_log.exception(
                "unhandled error",
                extra={
                    "fields": {"method": scope.get("method"), "path": logged_path(scope, route_label(scope))}
                },
            )
            if not response_started:
                status, headers, body = self.error_response(scope, request_id)
                await send(
                    {
                        "type": "http.response.start",
                        "status": status,
                        "headers": [*headers, request_id_header],
                    }
                )
                await send({"type": "http.response.body", "body": body})
        finally:
            elapsed = time.perf_counter() - started
            route = route_label(scope)
            record_request(self.metrics, scope, route, status, elapsed, request_id, self.pid)
            request_id_var.reset(token)
