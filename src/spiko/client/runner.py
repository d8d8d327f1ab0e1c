"""Executing calls: the sync and async runners, with idempotency keys, retries and typed errors."""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from spiko.client.errors import SpikoConnectionError, error_from_response
from spiko.client.operations import Call, Investors

T = TypeVar("T")

RETRY_STATUSES = frozenset({429, 503})
# Errors where the request may not have reached the server, or its answer was lost.
RETRY_EXCEPTIONS: tuple[type[Exception], ...] = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)
IDEMPOTENCY_HEADER = "Idempotency-Key"


def new_idempotency_key() -> str:
    """A fresh idempotency key (a random UUID, 36 characters)."""
    return str(uuid.uuid4())


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to wait before sending a request again.

    Retries 429, 503 and network errors, up to ``max_retries`` times, waiting a random time up
    to ``backoff * 2**attempt`` (capped at ``max_backoff``: exponential backoff with full jitter),
    or what ``Retry-After`` asks (capped at ``max_retry_after``). A ``POST`` is retried only with
    its ``Idempotency-Key``, so the server acts once.
    """

    max_retries: int = 3
    backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 60.0

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        """Seconds to wait before retry number ``attempt + 1``."""
        if retry_after:
            asked = _parse_retry_after(retry_after)
            if asked is not None:
                return min(max(asked, 0.0), self.max_retry_after)
        return random.uniform(0, min(self.max_backoff, self.backoff * (2**attempt)))


def _parse_retry_after(value: str) -> float | None:
    value = value.strip()
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when.timestamp() - time.time()


def api_root(base_url: str) -> str:
    """The ``/v1`` root under a host URL (``https://host`` -> ``https://host/v1``)."""
    root = base_url.rstrip("/")
    return root if root.endswith("/v1") else root + "/v1"


class _Runner:
    def __init__(self, retry: RetryPolicy) -> None:
        self.retry = retry
        self._investor_id: str | None = None

    def _request(
        self, http: httpx.Client | httpx.AsyncClient, call: Call[Any], key: str | None
    ) -> httpx.Request:
        headers = {IDEMPOTENCY_HEADER: key} if key else None
        return http.build_request(
            call.method, call.path.lstrip("/"), params=list(call.params), json=call.json, headers=headers
        )

    def _may_retry(self, request: httpx.Request, attempt: int) -> bool:
        if attempt >= self.retry.max_retries:
            return False
        return request.method != "POST" or IDEMPOTENCY_HEADER in request.headers

    @staticmethod
    def _key(call: Call[Any]) -> str | None:
        if call.method != "POST":
            return None
        return call.idempotency_key or new_idempotency_key()

    @staticmethod
    def _result(call: Call[T], response: httpx.Response) -> T:
        if response.status_code >= 400:
            raise error_from_response(response)
        return call.parse(response)


class SyncRunner(_Runner):
    """Sends calls with an ``httpx.Client``: the sync half of the transport."""

    def __init__(
        self, http: httpx.Client, retry: RetryPolicy, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        super().__init__(retry)
        self.http = http
        self.sleep = sleep

    def execute(self, call: Call[T]) -> T:
        if call.investor_in is not None:
            call = call.with_investor(self.caller_investor_id())
        key = self._key(call)
        attempt = 0
        while True:
            request = self._request(self.http, call, key)
            try:
                response = self.http.send(request)
            except RETRY_EXCEPTIONS as error:
                if not self._may_retry(request, attempt):
                    raise SpikoConnectionError(f"{call.operation_id}: {error!r}") from error
                self.sleep(self.retry.delay(attempt))
                attempt += 1
                continue
            if response.status_code in RETRY_STATUSES and self._may_retry(request, attempt):
                response.close()
                self.sleep(self.retry.delay(attempt, response.headers.get("retry-after")))
                attempt += 1
                continue
            return self._result(call, response)

    def caller_investor_id(self) -> str:
        """The id of the investor behind the credentials (fetched once)."""
        if self._investor_id is None:
            self._investor_id = self.execute(Investors.me()).id
        return self._investor_id


class AsyncRunner(_Runner):
    """Sends calls with an ``httpx.AsyncClient``: the async half of the transport."""

    def __init__(self, http: httpx.AsyncClient, retry: RetryPolicy) -> None:
        super().__init__(retry)
        self.http = http

    async def execute(self, call: Call[T]) -> T:
        if call.investor_in is not None:
            call = call.with_investor(await self.caller_investor_id())
        key = self._key(call)
        attempt = 0
        while True:
            request = self._request(self.http, call, key)
            try:
                response = await self.http.send(request)
            except RETRY_EXCEPTIONS as error:
                if not self._may_retry(request, attempt):
                    raise SpikoConnectionError(f"{call.operation_id}: {error!r}") from error
                await asyncio.sleep(self.retry.delay(attempt))
                attempt += 1
                continue
            if response.status_code in RETRY_STATUSES and self._may_retry(request, attempt):
                await response.aclose()
                await asyncio.sleep(self.retry.delay(attempt, response.headers.get("retry-after")))
                attempt += 1
                continue
            return self._result(call, response)

    async def caller_investor_id(self) -> str:
        """The id of the investor behind the credentials (fetched once)."""
        if self._investor_id is None:
            self._investor_id = (await self.execute(Investors.me())).id
        return self._investor_id
