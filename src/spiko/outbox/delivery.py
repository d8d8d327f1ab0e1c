"""Delivering queued webhook deliveries: claim, sign, send, record; retried with backoff.

At-least-once. A worker claims a batch of due deliveries in one short transaction by setting
their lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so any number of workers share the queue;
SQLite serializes write transactions), hands them to its sender threads, which send without
holding any transaction open, and records the outcomes in batches too: one transaction for all
the outcomes that arrived meanwhile (one ``UPDATE ... RETURNING`` for the successes, one
multi-row ``INSERT`` of their attempts). A worker claims again once half its slots are free, so
a busy worker makes two round trips per batch rather than per delivery. A worker killed
mid-delivery leaves its leases to expire; another worker then takes those deliveries again, so a
receiver may see a message twice and deduplicates on ``webhook-id`` (the event's id).

Each message is signed per Standard Webhooks with the ``standardwebhooks`` package: headers
``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` (one ``v1,`` signature per
valid secret: two during a rotation's overlap). Only a 2xx answer counts as received; redirects
are not followed. Attempts are spaced by ``SPIKO_WEBHOOK_RETRY_SECONDS``; when a delivery's last
attempt fails, the endpoint is disabled and a ``webhook_endpoint.disabled`` event tells its
owner (through the API, the app, and any other endpoint subscribed to it).
"""

from __future__ import annotations

import json
import logging
import queue
import ssl
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import httpx
from sqlalchemy import insert, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook

from spiko.context import AppContext
from spiko.db.models.webhooks import Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from spiko.db.types import utcnow
from spiko.outbox import snapshots
from spiko.presenters.events import event as present_event
from spiko.services.webhooks import UnsafeUrl, checked_target, decrypt_secret

logger = logging.getLogger("spiko.webhooks")

EXCERPT_LENGTH = 500
USER_AGENT = "Spiko-Webhooks/1"


def retry_schedule(text: str) -> list[float]:
    """``"5,300,1800"`` -> seconds before the 2nd, 3rd, 4th attempt."""
    values = [float(part) for part in text.split(",") if part.strip()]
    if any(value < 0 for value in values):
        raise ValueError("SPIKO_WEBHOOK_RETRY_SECONDS takes non-negative numbers")
    return values


@lru_cache(maxsize=1024)
def _webhook(secret: str) -> Webhook:
    return Webhook(secret)


def sign(secrets: list[str], message_id: str, moment: datetime, body: str) -> str:
    return " ".join(_webhook(secret).sign(message_id, moment, body) for secret in secrets)


@dataclass(frozen=True)
class Job:
    delivery_id: str
    event_id: str
    url: str
    body: str
    secrets: list[str]


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    latency_ms: int
    excerpt: str
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class Clients:
    """One HTTP transport per origin (scheme, host name, port), so connections are kept alive and
    reused per receiver (and a TLS connection made for one name never carries a request for
    another); each keeps as many idle connections as the worker has senders. They share one TLS
    context: loading the trusted certificates costs more CPU than many deliveries.

    Deliveries go to the transport itself, not through an ``httpx.Client``: a delivery needs no
    redirects, authentication or cookies (a receiver's cookies are never sent back), and the
    client's handling of them cost a quarter of a delivery's CPU.
    """

    MAX_ORIGINS = 512

    def __init__(self, timeout: float, keepalive: int = 16) -> None:
        self.timeout = httpx.Timeout(timeout).as_dict()
        self.limits = httpx.Limits(max_keepalive_connections=max(1, keepalive), keepalive_expiry=30.0)
        self._tls: ssl.SSLContext | None = None
        self._transports: dict[tuple[str, str, int], httpx.HTTPTransport] = {}
        self._lock = threading.Lock()

    def get(self, scheme: str, host: str, port: int) -> httpx.HTTPTransport:
        origin = (scheme, host, port)
        transport = self._transports.get(origin)
        if transport is not None:
            return transport
        with self._lock:
            transport = self._transports.get(origin)
            if transport is None:
                if len(self._transports) >= self.MAX_ORIGINS:
                    self._close_all()
                if self._tls is None:
                    self._tls = httpx.create_ssl_context(trust_env=False)
                transport = httpx.HTTPTransport(verify=self._tls, limits=self.limits, trust_env=False)
                self._transports[origin] = transport
            return transport

    def _close_all(self) -> None:
        for transport in self._transports.values():
            transport.close()
        self._transports.clear()

    def close(self) -> None:
        with self._lock:
            self._close_all()


def send(job: Job, *, clients: Clients, allow_private: bool) -> Outcome:
    """One signed POST to the endpoint, connected to the address just checked (DNS rebinding)."""
    started = time.perf_counter()

    def done(status: int | None, excerpt: str = "", error: str | None = None) -> Outcome:
        latency = int((time.perf_counter() - started) * 1000)
        return Outcome(status, latency, excerpt[:EXCERPT_LENGTH], error)

    try:
        host, port, addresses = checked_target(job.url, allow_private=allow_private)
    except UnsafeUrl as error:
        return done(None, error=f"refused: {error}"[:200])
    address = addresses[0]
    target = httpx.URL(job.url)
    pinned = target.copy_with(host=str(address))
    body = job.body.encode()
    moment = datetime.now().astimezone()
    headers = {
        "host": target.netloc.decode("ascii"),
        "content-type": "application/json",
        "content-length": str(len(body)),
        "user-agent": USER_AGENT,
        "webhook-id": job.event_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": sign(job.secrets, job.event_id, moment, job.body),
    }
    extensions: dict[str, object] = {"timeout": clients.timeout}
    if target.scheme == "https":
        extensions["sni_hostname"] = host
    request = httpx.Request("POST", pinned, headers=headers, content=body, extensions=extensions)
    try:
        response = clients.get(target.scheme, host, port).handle_request(request)
        try:
            received = b""
            for chunk in response.iter_bytes():
                received += chunk
                if len(received) >= EXCERPT_LENGTH * 4:
                    break
        finally:
            response.close()
        return done(response.status_code, received.decode("utf-8", "replace"))
    except httpx.TimeoutException:
        return done(None, error="timeout")
    except httpx.HTTPError as error:
        return done(None, error=f"{type(error).__name__}: {error}"[:200])


class Secrets:
    """Decrypted signing secrets by their ciphertext, so a busy endpoint's are decrypted once.

    Nothing invalidates an entry: a ciphertext always decrypts to the same secret, and a rotation
    stores a new ciphertext. Bounded: emptied when it reaches ``MAX_ENTRIES``.
    """

    MAX_ENTRIES = 4096

    def __init__(self, secret_key: str) -> None:
        self._secret_key = secret_key
        self._plain: dict[str, str] = {}

    def _decrypt(self, ciphertext: str) -> str:
        plain = self._plain.get(ciphertext)
        if plain is None:
            plain = decrypt_secret(self._secret_key, ciphertext)
            if len(self._plain) >= self.MAX_ENTRIES:
                self._plain.clear()
            self._plain[ciphertext] = plain
        return plain

    def signing(
        self, current: str, previous: str | None, previous_expires: datetime | None, now: datetime
    ) -> list[str]:
        """The current secret, and the previous one for a day after a rotation."""
        found = [self._decrypt(current)]
        if previous and previous_expires is not None and previous_expires > now:
            found.append(self._decrypt(previous))
        return found


Result = tuple[Job, Outcome]


class Worker:
    """Delivers due webhook deliveries; ``run`` until stopped, or ``run_once`` for one batch."""

    RECORD_BATCH = 256

    def __init__(self, ctx: AppContext, *, concurrency: int | None = None, poll_seconds: float = 0.2) -> None:
        settings = ctx.settings
        self.ctx = ctx
        self.name = f"worker-{uuid.uuid4().hex[:8]}"
        self.concurrency = max(1, concurrency or settings.webhook_worker_concurrency)
        self.poll_seconds = poll_seconds
        self.timeout = settings.webhook_timeout_seconds
        self.lease = timedelta(seconds=3 * self.timeout + 5)
        self.schedule = retry_schedule(settings.webhook_retry_seconds)
        self.allow_private = settings.webhook_allow_private_networks
        self.clients = Clients(self.timeout, keepalive=self.concurrency)
        self.secrets = Secrets(settings.secret_key)
        self._in_flight = 0
        self._slots = threading.Condition()
        self._sqlite = ctx.engine.dialect.name == "sqlite"

    def close(self) -> None:
        self.clients.close()

    # -- claiming ------------------------------------------------------------------------------

    def claim(self, limit: int | None = None) -> list[Job]:
        """Lease up to ``limit`` (default: the concurrency) due deliveries to this worker."""
        now = utcnow()
        due = (
            WebhookDelivery.status == "pending",
            WebhookDelivery.next_attempt_at <= now,
            or_(WebhookDelivery.lease_expires_at.is_(None), WebhookDelivery.lease_expires_at < now),
            WebhookEndpoint.enabled.is_(True),
        )
        if self._sqlite:
            # An idle poll reads only: a write transaction would take the database's write lock.
            # (On PostgreSQL a claim that finds nothing costs what this read would.)
            with self.ctx.transaction(write=False) as session:
                anything = session.scalar(
                    select(WebhookDelivery.id)
                    .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                    .where(*due)
                    .limit(1)
                )
            if anything is None:
                return []
        with self.ctx.transaction() as session:
            rows = session.execute(
                select(
                    WebhookDelivery.id,
                    WebhookEndpoint.url,
                    WebhookEndpoint.secret_encrypted,
                    WebhookEndpoint.previous_secret_encrypted,
                    WebhookEndpoint.previous_secret_expires_at,
                    Event,
                )
                .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                .join(Event, Event.id == WebhookDelivery.event_id)
                .where(*due)
                .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
                .limit(limit or self.concurrency)
                .with_for_update(skip_locked=True, of=WebhookDelivery)
            ).all()
            if not rows:
                return []
            session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id.in_([row[0] for row in rows]))
                .values(lease_expires_at=now + self.lease)
                .execution_options(synchronize_session=False)
            )
            jobs = []
            for delivery_id, url, current, previous, previous_expires, event in rows:
                body = json.dumps(present_event(event), separators=(",", ":"), ensure_ascii=False)
                secrets = self.secrets.signing(current, previous, previous_expires, now)
                jobs.append(Job(delivery_id, event.id, url, body, secrets))
        return jobs

    # -- recording -----------------------------------------------------------------------------

    def record(self, job: Job, outcome: Outcome) -> None:
        self.record_many([(job, outcome)])

    def record_many(self, results: Sequence[Result]) -> None:
        """Record outcomes in one transaction (tried twice: a lost serialization race is retried)."""
        if not results:
            return
        for attempt in (1, 2):
            try:
                with self.ctx.transaction() as session:
                    self._record(session, results, utcnow())
                return
            except DBAPIError:
                if attempt == 2:
                    raise

    def _record(self, session: Session, results: Sequence[Result], now: datetime) -> None:
        succeeded = [(job, outcome) for job, outcome in results if outcome.ok]
        if succeeded:
            # Only deliveries still pending: the endpoint may have been deleted, or another worker
            # may have finished one after our lease expired.
            recorded = set(
                session.scalars(
                    update(WebhookDelivery)
                    .where(
                        WebhookDelivery.id.in_(sorted(job.delivery_id for job, _ in succeeded)),
                        WebhookDelivery.status == "pending",
                    )
                    .values(
                        status="succeeded",
                        delivered_at=now,
                        attempts=WebhookDelivery.attempts + 1,
                        lease_expires_at=None,
                    )
                    .returning(WebhookDelivery.id)
                    .execution_options(synchronize_session=False)
                )
            )
            attempts = [
                self._attempt_row(job.delivery_id, outcome, now)
                for job, outcome in succeeded
                if job.delivery_id in recorded
            ]
            if attempts:
                session.execute(insert(WebhookAttempt), attempts)
        for job, outcome in results:
            if not outcome.ok:
                self._record_failure(session, job, outcome, now)

    @staticmethod
    def _attempt_row(delivery_id: str, outcome: Outcome, now: datetime) -> dict[str, object]:
        return {
            "delivery_id": delivery_id,
            "attempted_at": now,
            "status_code": outcome.status_code,
            "latency_ms": outcome.latency_ms,
            "response_excerpt": outcome.excerpt,
            "error": outcome.error,
        }

    def _record_failure(self, session: Session, job: Job, outcome: Outcome, now: datetime) -> None:
        delivery = session.scalar(
            select(WebhookDelivery)
            .where(WebhookDelivery.id == job.delivery_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if delivery is None or delivery.status != "pending":
            return  # the endpoint was deleted, or another worker finished it after our lease expired
        session.execute(insert(WebhookAttempt), [self._attempt_row(delivery.id, outcome, now)])
        delivery.attempts += 1
        delivery.lease_expires_at = None
        if delivery.attempts > len(self.schedule):
            delivery.status = "failed"
            self._disable(session, delivery.endpoint_id, outcome)
        else:
            delivery.next_attempt_at = now + timedelta(seconds=self.schedule[delivery.attempts - 1])
        session.flush()

    def _disable(self, session: Session, endpoint_id: str, outcome: Outcome) -> None:
        endpoint = session.scalar(
            select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id).with_for_update()
        )
        if endpoint is None or not endpoint.enabled:
            return
        last = (
            f"HTTP {outcome.status_code}" if outcome.status_code is not None else (outcome.error or "error")
        )
        endpoint.enabled = False
        endpoint.disabled_reason = f"every attempt of a delivery failed (last: {last})"[:200]
        endpoint.updated_at = utcnow()
        session.flush()
        snapshots.endpoint_disabled(session, endpoint)
        logger.warning("webhook endpoint %s disabled: %s", endpoint.id, endpoint.disabled_reason)

    # -- sending -------------------------------------------------------------------------------

    def _send(self, job: Job) -> Outcome:
        try:
            return send(job, clients=self.clients, allow_private=self.allow_private)
        except Exception as error:  # one bad delivery never stops the worker: it is retried
            logger.exception("webhook delivery %s could not be sent", job.delivery_id)
            return Outcome(None, 0, "", f"{type(error).__name__}"[:200])

    def run_once(self) -> int:
        """Claim one batch, deliver it and record the outcomes; returns how many were attempted."""
        jobs = self.claim()
        results: list[Result] = []

        def deliver(job: Job) -> None:
            results.append((job, self._send(job)))

        # Daemon threads: a process told to stop does not wait for a receiver that hangs (the
        # delivery's lease expires and it is attempted again).
        threads = [
            threading.Thread(target=deliver, args=(job,), name="spiko-webhook", daemon=True) for job in jobs
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        try:
            self.record_many(results)
        except Exception:
            logger.exception("webhook outcomes could not be recorded; their leases will expire")
        return len(jobs)

    def _sender(self, jobs: queue.SimpleQueue[Job | None], results: queue.SimpleQueue[Result | None]) -> None:
        while (job := jobs.get()) is not None:
            results.put((job, self._send(job)))

    def _recorder(self, results: queue.SimpleQueue[Result | None]) -> None:
        """Records whatever outcomes have arrived, in one transaction, then frees their slots."""
        finished = False
        while not finished:
            first = results.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.RECORD_BATCH:
                try:
                    more = results.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    finished = True
                    break
                batch.append(more)
            try:
                self.record_many(batch)
            except Exception:  # their leases expire and they are attempted again
                logger.exception("%d webhook outcomes could not be recorded", len(batch))
            with self._slots:
                self._in_flight -= len(batch)
                self._slots.notify()

    def run(self, stop: threading.Event) -> None:
        """Keep up to ``concurrency`` deliveries in flight; claim again once half the slots are free."""
        jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        results: queue.SimpleQueue[Result | None] = queue.SimpleQueue()
        # Daemon threads: a process told to stop does not wait for a receiver that hangs.
        senders = [
            threading.Thread(target=self._sender, args=(jobs, results), name="spiko-webhook", daemon=True)
            for _ in range(self.concurrency)
        ]
        recorder = threading.Thread(target=self._recorder, args=(results,), name="spiko-webhooks-record")
        recorder.daemon = True
        for thread in (*senders, recorder):
            thread.start()
        batch = max(1, self.concurrency // 2)
        try:
            while not stop.is_set():
                with self._slots:
                    while self._in_flight > self.concurrency - batch and not stop.is_set():
                        self._slots.wait(self.poll_seconds)
                    free = self.concurrency - self._in_flight
                if stop.is_set():
                    break
                try:
                    claimed = self.claim(free)
                except Exception:
                    logger.exception("webhook worker could not claim deliveries; retrying")
                    claimed = []
                with self._slots:
                    self._in_flight += len(claimed)
                for job in claimed:
                    jobs.put(job)
                if len(claimed) < free:  # the queue is drained: wait for more to become due
                    stop.wait(self.poll_seconds)
        finally:
            for _ in senders:
                jobs.put(None)
            # Outcomes of deliveries already sent are recorded; one still in flight is left to its lease.
            deadline = time.monotonic() + 2.0
            for thread in senders:
                thread.join(max(0.0, deadline - time.monotonic()))
            results.put(None)
            recorder.join(max(0.1, deadline - time.monotonic()))


class InProcessWorker:
    """A worker on a daemon thread of the server process (``SPIKO_WEBHOOK_IN_PROCESS_WORKER``)."""

    def __init__(self, ctx: AppContext) -> None:
        self._stop = threading.Event()
        self._worker = Worker(ctx)
        self._thread = threading.Thread(target=self._worker.run, args=(self._stop,), name="spiko-webhooks")
        self._thread.daemon = True

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop polling; a batch still in flight is left to its leases."""
        self._stop.set()
        self._thread.join(timeout)
