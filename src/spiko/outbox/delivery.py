"""Delivering queued webhook deliveries: claim, sign, send, record; retried with backoff.

At-least-once. A worker claims due deliveries in one short transaction by setting their lease
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so any number of workers share the queue; SQLite
serializes write transactions), sends them without holding any transaction open, and records
each outcome in its own transaction. A worker killed mid-delivery leaves its leases to expire;
another worker then takes those deliveries again, so a receiver may see a message twice and
deduplicates on ``webhook-id`` (the event's id).

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
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook

from spiko.context import AppContext
from spiko.db.models.webhooks import Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from spiko.db.types import utcnow
from spiko.outbox import snapshots
from spiko.presenters.events import event as present_event
from spiko.services.webhooks import UnsafeUrl, checked_target, signing_secrets

logger = logging.getLogger("spiko.webhooks")

EXCERPT_LENGTH = 500
USER_AGENT = "Spiko-Webhooks/1"


def retry_schedule(text: str) -> list[float]:
    """``"5,300,1800"`` -> seconds before the 2nd, 3rd, 4th attempt."""
    values = [float(part) for part in text.split(",") if part.strip()]
    if any(value < 0 for value in values):
        raise ValueError("SPIKO_WEBHOOK_RETRY_SECONDS takes non-negative numbers")
    return values


def sign(secrets: list[str], message_id: str, moment: datetime, body: str) -> str:
    return " ".join(Webhook(secret).sign(message_id, moment, body) for secret in secrets)


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
    """One HTTP client per host name, so connections are kept alive and reused per receiver (and a
    TLS connection made for one name never carries a request for another)."""

    MAX_HOSTS = 512

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._clients: dict[str, httpx.Client] = {}
        self._lock = threading.Lock()

    def get(self, host: str) -> httpx.Client:
        with self._lock:
            client = self._clients.get(host)
            if client is None:
                if len(self._clients) >= self.MAX_HOSTS:
                    self._close_all()
                client = httpx.Client(timeout=self.timeout, follow_redirects=False, trust_env=False)
                self._clients[host] = client
            return client

    def _close_all(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()

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
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "host": target.netloc.decode("ascii"),
        "webhook-id": job.event_id,
    }
    moment = datetime.now().astimezone()
    headers["webhook-timestamp"] = str(int(moment.timestamp()))
    headers["webhook-signature"] = sign(job.secrets, job.event_id, moment, job.body)
    extensions = {"sni_hostname": host} if target.scheme == "https" else {}
    try:
        with clients.get(host).stream(
            "POST", pinned, content=job.body.encode(), headers=headers, extensions=extensions
        ) as response:
            received = b""
            for chunk in response.iter_bytes():
                received += chunk
                if len(received) >= EXCERPT_LENGTH * 4:
                    break
            return done(response.status_code, received.decode("utf-8", "replace"))
    except httpx.TimeoutException:
        return done(None, error="timeout")
    except httpx.HTTPError as error:
        return done(None, error=f"{type(error).__name__}: {error}"[:200])


class Worker:
    """Delivers due webhook deliveries; ``run`` until stopped, or ``run_once`` for one batch."""

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
        self.clients = Clients(self.timeout)
        self._in_flight = 0
        self._slots = threading.Condition()

    def close(self) -> None:
        self.clients.close()

    def claim(self, limit: int | None = None) -> list[Job]:
        """Lease up to ``limit`` (default: the concurrency) due deliveries to this worker."""
        now = utcnow()
        due = (
            WebhookDelivery.status == "pending",
            WebhookDelivery.next_attempt_at <= now,
            or_(WebhookDelivery.lease_expires_at.is_(None), WebhookDelivery.lease_expires_at < now),
            WebhookEndpoint.enabled.is_(True),
        )
        # An idle poll reads only: on SQLite a write transaction would take the database's write lock.
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
                select(WebhookDelivery, WebhookEndpoint, Event)
                .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                .join(Event, Event.id == WebhookDelivery.event_id)
                .where(*due)
                .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
                .limit(limit or self.concurrency)
                .with_for_update(skip_locked=True, of=WebhookDelivery)
            ).all()
            jobs = []
            for delivery, endpoint, event in rows:
                delivery.lease_expires_at = now + self.lease
                body = json.dumps(present_event(event), separators=(",", ":"), ensure_ascii=False)
                jobs.append(
                    Job(
                        delivery.id,
                        event.id,
                        endpoint.url,
                        body,
                        signing_secrets(self.ctx.settings.secret_key, endpoint, now),
                    )
                )
        return jobs

    def record(self, job: Job, outcome: Outcome) -> None:
        now = utcnow()
        with self.ctx.transaction() as session:
            delivery = session.scalar(
                select(WebhookDelivery)
                .where(WebhookDelivery.id == job.delivery_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            if delivery is None or delivery.status != "pending":
                return  # the endpoint was deleted, or another worker finished it after our lease expired
            session.add(
                WebhookAttempt(
                    delivery_id=delivery.id,
                    attempted_at=now,
                    status_code=outcome.status_code,
                    latency_ms=outcome.latency_ms,
                    response_excerpt=outcome.excerpt,
                    error=outcome.error,
                )
            )
            delivery.attempts += 1
            delivery.lease_expires_at = None
            if outcome.ok:
                delivery.status = "succeeded"
                delivery.delivered_at = now
            elif delivery.attempts > len(self.schedule):
                delivery.status = "failed"
                self._disable(session, delivery.endpoint_id, outcome)
            else:
                delivery.next_attempt_at = now + timedelta(seconds=self.schedule[delivery.attempts - 1])

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

    def _deliver(self, job: Job) -> None:
        try:
            outcome = send(job, clients=self.clients, allow_private=self.allow_private)
            self.record(job, outcome)
        except Exception:  # one bad delivery never stops the worker; its lease expires and it is retried
            logger.exception("webhook delivery %s could not be completed", job.delivery_id)

    def run_once(self) -> int:
        """Claim one batch and deliver it; returns how many deliveries were attempted."""
        jobs = self.claim()
        # Daemon threads: a process told to stop does not wait for a receiver that hangs (the
        # delivery's lease expires and it is attempted again).
        threads = [
            threading.Thread(target=self._deliver, args=(job,), name="spiko-webhook", daemon=True)
            for job in jobs
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return len(jobs)

    def _deliver_and_free(self, job: Job) -> None:
        try:
            self._deliver(job)
        finally:
            with self._slots:
                self._in_flight -= 1
                self._slots.notify()

    def run(self, stop: threading.Event) -> None:
        """Keep up to ``concurrency`` deliveries in flight, claiming more as each one ends."""
        while not stop.is_set():
            with self._slots:
                while self._in_flight >= self.concurrency and not stop.is_set():
                    self._slots.wait(self.poll_seconds)
                free = self.concurrency - self._in_flight
            if stop.is_set():
                break
            try:
                jobs = self.claim(free)
            except Exception:
                logger.exception("webhook worker could not claim deliveries; retrying")
                jobs = []
            with self._slots:
                self._in_flight += len(jobs)
            for job in jobs:
                threading.Thread(
                    target=self._deliver_and_free, args=(job,), name="spiko-webhook", daemon=True
                ).start()
            if not jobs:
                stop.wait(self.poll_seconds)


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
