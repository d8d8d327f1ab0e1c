"""Single-use JWT identifiers (``jti``) of DPoP proofs (RFC 9449 section 11.1) and client
assertions (RFC 7523 section 3), remembered where every worker and process sees them: at the
authorization server's endpoints, on /userinfo and on /v1 alike.

In Redis when it is configured (``SET NX`` with an expiry), otherwise in the database (an insert
that does nothing on conflict: ``oauth_used_jtis`` at the authorization server's endpoints,
``oauth_resource_jtis`` on /v1, keyed by the proof's ``iat`` and then its identifier). An
identifier is kept only until the token carrying it would be refused as stale anyway, so the
store stays small.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import itertools
import logging
import queue
import threading
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import delete, text
from sqlalchemy.orm import Session

from spiko.db.models.fapi import UsedJti

logger = logging.getLogger(__name__)


def replay_key(purpose: str, issuer: str, jti: str) -> str:
    """What is stored: a digest of what was sent, always 64 safe characters."""
    raw = "\0".join((purpose, issuer, jti)).encode("utf-8", "backslashreplace")
    return hashlib.sha256(raw).hexdigest()


class ReplayStore(Protocol):
    def first_use(self, key: str, expires_at: float, session: Session | None = None) -> bool:
        """True the first time ``key`` is seen (and remember it until ``expires_at``), else False."""
        ...


class RedisReplayStore:
    def __init__(self, redis_url: str, prefix: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(redis_url)
        self._prefix = prefix

    def first_use(self, key: str, expires_at: float, session: Session | None = None) -> bool:
        ttl_ms = max(1000, int((expires_at - time.time()) * 1000))
        return bool(self._redis.set(self._prefix + key, b"1", nx=True, px=ttl_ms))


class DatabaseReplayStore:
    """``oauth_used_jtis``: in the caller's transaction when it has one, else in a short one of its own.

    Every ``CLEANUP_EVERY`` identifiers, those past their expiry are deleted.

    A transaction of its own on PostgreSQL commits with ``synchronous_commit = off``: the row is
    visible to every other worker as soon as the commit returns, but the commit does not wait for
    the WAL flush. Only a crash of the database server itself within that flush delay (a fraction
    of a second) could forget an identifier, which a proof carries for about a minute at most.
    """

    CLEANUP_EVERY = 500
    # One statement both databases run as is, compiled once: a record costs a round trip, not an
    # ORM flush (this runs once per DPoP call on /v1).
    INSERT = text(
        'INSERT INTO oauth_used_jtis ("key", expires_at) VALUES (:key, :expires_at) '
        'ON CONFLICT ("key") DO NOTHING'
    )

    def __init__(self, ctx: Any) -> None:
        self._ctx = ctx
        self._seen = 0

    def first_use(self, key: str, expires_at: float, session: Session | None = None) -> bool:
        params = {"key": key, "expires_at": expires_at}
        if session is not None:
            first = session.execute(self.INSERT, params).rowcount == 1  # type: ignore[attr-defined]
            if self._cleanup_due():
                session.execute(delete(UsedJti).where(UsedJti.expires_at < time.time()))
            return bool(first)
        with self._ctx.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql("SET LOCAL synchronous_commit = off")
            first = connection.execute(self.INSERT, params).rowcount == 1
            if self._cleanup_due():
                connection.execute(delete(UsedJti).where(UsedJti.expires_at < time.time()))
        return bool(first)

    def _cleanup_due(self) -> bool:
        self._seen += 1
        return self._seen % self.CLEANUP_EVERY == 0


class AsyncReplayStore(Protocol):
    async def first_use_async(self, key: str, expires_at: float, issued_at: int) -> bool:
        """True the first time the proof (``key``, with its ``iat``) is seen by any worker (and
        remember it until ``expires_at``), else False."""
        ...

    async def aclose(self) -> None:
        """Close this event loop's kept connection, if any (at shutdown)."""
        ...


_INSERTS: dict[tuple[int, str], str] = {}


def _insert_statement(count: int, placeholder: str) -> str:
    """One multi-row insert of ``count`` proofs (``iat``, key) answering the keys it inserted."""
    statement = _INSERTS.get((count, placeholder))
    if statement is None:
        row = f"({placeholder}, {placeholder})"
        statement = (  # only placeholders are spliced in
            f'INSERT INTO oauth_resource_jtis (issued_at, "key") VALUES {", ".join([row] * count)} '  # noqa: S608
            'ON CONFLICT DO NOTHING RETURNING "key"'
        )
        _INSERTS[(count, placeholder)] = statement
    return statement


def _parameters(entries: list[tuple[str, float]]) -> list[Any]:
    """The insert's values for (key, ``iat``) entries: ``iat`` first, as the table is ordered."""
    parameters: list[Any] = []
    for key, issued_at in entries:
        parameters += (int(issued_at), key)
    return parameters


def _cutoff(retain_seconds: float) -> int:
    """Proofs issued before this are refused as stale: their records may go."""
    return int(time.time() - retain_seconds)


class GroupCommit:
    """Single-use records of one process, gathered into as few round trips as the load allows.

    ``record`` takes distinct keys, each with a time (its expiry for Redis, its proof's ``iat``
    for the database), and answers which were never seen, in one transaction or one Redis call. A
    request's key joins the batch being gathered and the request waits until that batch is
    recorded: no request is answered before its identifier is, so a replay to any worker is still
    refused. One batch at a time is recorded per event loop: the first key of an idle loop goes
    out on the loop's next turn (with whatever else arrived in that turn), and keys arriving while
    a batch is out wait for it and go out together next. Nothing waits on a timer, so a batch only
    ever grows under load.

    A key already waiting in this process (the same proof sent twice at once) is refused at
    once: of two uses at most one is the first, and that one is still to be recorded.
    """

    MAX_BATCH = 256  # keys per statement: well under SQLite's limit of bound values

    def __init__(self, record: Callable[[list[tuple[str, float]]], Awaitable[set[str]]]) -> None:
        self._record = record
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Gathering] = (
            weakref.WeakKeyDictionary()
        )

    async def first_use(self, key: str, expires_at: float) -> bool:
        loop = asyncio.get_running_loop()
        gathering = self._loops.get(loop)
        if gathering is None:
            gathering = self._loops.setdefault(loop, _Gathering())
        if key in gathering.waiting:
            return False
        answer: asyncio.Future[bool] = loop.create_future()
        gathering.waiting[key] = (expires_at, answer)
        if not gathering.recording:
            gathering.recording = True
            gathering.task = loop.create_task(self._drain(gathering))
        # A request given up (its client gone) cancels its answer; its key is recorded all the same.
        return await answer

    async def _drain(self, gathering: _Gathering) -> None:
        try:
            while gathering.waiting:
                batch = list(itertools.islice(gathering.waiting.items(), self.MAX_BATCH))
                try:
                    first = await self._record([(key, expires_at) for key, (expires_at, _) in batch])
                except Exception as error:  # every request of the batch fails as its own would
                    for key, (_, answer) in batch:
                        del gathering.waiting[key]
                        if not answer.done():
                            answer.set_exception(error)
                    continue
                for key, (_, answer) in batch:
                    del gathering.waiting[key]
                    if not answer.done():
                        answer.set_result(key in first)
        finally:
            gathering.recording = False
            gathering.task = None
            for _, answer in gathering.waiting.values():  # left only when the loop is shutting down
                answer.cancel()
            gathering.waiting.clear()


class _Gathering:
    """One event loop's keys waiting to be recorded (in arrival order), and whether a batch is out."""

    def __init__(self) -> None:
        self.waiting: dict[str, tuple[float, asyncio.Future[bool]]] = {}
        self.recording = False
        self.task: asyncio.Task[None] | None = None  # held, so the loop does not drop it


# How long a /v1 proof's record is kept after its ``iat`` unless told otherwise: beyond the
# accepted age of a proof (``SPIKO_DPOP_PROOF_MAX_AGE_SECONDS``, a minute by default).
RETAIN_SECONDS = 120.0


class JtiRecorder:
    """Records batches of identifiers from a thread of its own, over a connection it keeps.

    An event loop hands a batch over (``submit``) and gets its answer back through
    ``call_soon_threadsafe``: about 10 µs of CPU, a quarter of a hop through the thread pool, and
    the connection is neither checked out nor set up per batch. One batch is recorded at a time,
    in the order they came. After ``IDLE_SECONDS`` without work the thread gives its connection
    back and ends; the next batch starts another. A batch that fails on a connection that served
    before (it may have gone stale: a server restart) is tried once more on a fresh one; an error
    on a fresh one fails the batch's requests. (Should a batch have been recorded before its
    connection broke, the second try refuses its identifiers as already used: a refusal, never a
    replay let through.)
    """

    IDLE_SECONDS = 10.0

    def __init__(self) -> None:
        self._work: queue.SimpleQueue[_Batch] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._running = False

    def submit(self, entries: list[tuple[str, float]]) -> asyncio.Future[set[str]]:
        """The keys of ``entries`` (distinct) never seen before, once all are recorded."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[set[str]] = loop.create_future()
        with self._lock:
            self._work.put(_Batch(entries, loop, answer))
            if not self._running:
                self._running = True
                threading.Thread(target=self._run, name="spiko-jti-recorder", daemon=True).start()
        return answer

    def _run(self) -> None:
        connection: Any = None
        used = False  # whether the connection served a batch already (so may have gone stale)
        try:
            while True:
                try:
                    batch = self._work.get(timeout=self.IDLE_SECONDS)
                except queue.Empty:
                    with self._lock:
                        if self._work.empty():
                            self._running = False
                            return
                    continue
                try:
                    if connection is None:
                        connection, used = self._connect(), False
                    try:
                        first = self._record(connection, batch.entries)
                    except Exception:
                        self._release(connection, broken=True)
                        connection = None
                        if not used:
                            raise
                        connection = self._connect()
                        first = self._record(connection, batch.entries)
                    used = True
                except Exception as error:  # noqa: BLE001 - the requests waiting on the batch get it
                    batch.settle(None, error)
                else:
                    batch.settle(first, None)
        finally:
            if connection is not None:
                self._release(connection, broken=False)

    def _connect(self) -> Any:
        raise NotImplementedError

    def _record(self, connection: Any, entries: list[tuple[str, float]]) -> set[str]:
        raise NotImplementedError

    def _release(self, connection: Any, *, broken: bool) -> None:
        raise NotImplementedError


class _Batch:
    """Identifiers to record, and the event loop and future that wait for the answer."""

    def __init__(
        self,
        entries: list[tuple[str, float]],
        loop: asyncio.AbstractEventLoop,
        answer: asyncio.Future[set[str]],
    ) -> None:
        self.entries = entries
        self._loop = loop
        self._answer = answer

    def settle(self, first: set[str] | None, error: Exception | None) -> None:
        """From the recorder's thread: hand the answer (or the error) to the waiting loop."""
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            self._loop.call_soon_threadsafe(self._settle, first, error)

    def _settle(self, first: set[str] | None, error: Exception | None) -> None:
        if self._answer.done():
            return
        if error is not None:
            self._answer.set_exception(error)
        else:
            self._answer.set_result(first or set())


class DatabaseJtiRecorder(JtiRecorder):
    """``oauth_resource_jtis``, through the driver on a connection of the engine's pool.

    A batch is one short transaction (``BEGIN IMMEDIATE`` on SQLite; on PostgreSQL with
    ``synchronous_commit = off`` as in ``DatabaseReplayStore``, set once for the connection) of
    one multi-row ``INSERT … ON CONFLICT DO NOTHING RETURNING "key"``, whose answer is the keys
    it inserted whatever other transactions committed meanwhile. No statement compilation or
    pool checkout per batch: about a sixth of the CPU of a transaction through
    ``engine.begin()``. Every ``CLEANUP_EVERY`` identifiers, the proofs issued more than
    ``retain_seconds`` ago (refused as stale by then) are deleted.
    """

    CLEANUP_EVERY = 500

    def __init__(self, engine: Any, retain_seconds: float = RETAIN_SECONDS) -> None:
        super().__init__()
        self._engine = engine
        self._retain_seconds = retain_seconds
        self._postgresql = engine.dialect.name == "postgresql"
        self._placeholder = "%s" if self._postgresql else "?"
        self._since_cleanup = 0

    def _connect(self) -> Any:
        connection = self._engine.raw_connection()
        if self._postgresql:  # for this connection's time in the recorder, undone when it goes back
            cursor = connection.cursor()
            cursor.execute("SET synchronous_commit = off")
            cursor.close()
            connection.commit()
        return connection

    def _record(self, connection: Any, entries: list[tuple[str, float]]) -> set[str]:
        cursor = connection.cursor()
        try:
            if not self._postgresql:  # PostgreSQL's driver begins the transaction itself
                cursor.execute("BEGIN IMMEDIATE")
            cursor.execute(_insert_statement(len(entries), self._placeholder), _parameters(entries))
            first = {row[0] for row in cursor.fetchall()}
            self._since_cleanup += len(entries)
            if self._since_cleanup >= self.CLEANUP_EVERY:
                self._since_cleanup = 0
                cursor.execute(
                    f"DELETE FROM oauth_resource_jtis WHERE issued_at < {self._placeholder}",  # noqa: S608
                    (_cutoff(self._retain_seconds),),
                )
            cursor.close()
            connection.commit()
        except BaseException:
            with contextlib.suppress(Exception):
                connection.rollback()
            raise
        return first

    def _release(self, connection: Any, *, broken: bool) -> None:
        if not broken and self._postgresql:
            try:
                cursor = connection.cursor()
                cursor.execute("RESET synchronous_commit")
                cursor.close()
                connection.commit()
            except Exception:  # noqa: BLE001 - a connection that cannot be reset is not given back
                broken = True
        if broken:
            connection.invalidate()
        else:
            connection.close()


# Every key in one call: ``SET key 1 NX PX ttl`` for each, answering 1 for a key it set, else 0.
SET_EACH_IF_NEW = """
local set = {}
for index, key in ipairs(KEYS) do
  if redis.call('SET', key, '1', 'NX', 'PX', ARGV[index]) then set[index] = 1 else set[index] = 0 end
end
return set
"""


class RedisJtiRecorder(JtiRecorder):
    """Redis, over a connection of a (blocking) client's pool: a batch is one script call.

    The script does ``SET NX PX`` for each identifier, atomically in Redis, and answers which it
    set. A blocking connection kept by the thread costs about 15 µs of CPU a call, where the
    asyncio client costs about 90 µs (its pool, retries and stream reader, on this machine).
    """

    def __init__(self, redis_url: str, prefix: str) -> None:
        import redis

        super().__init__()
        self._client = redis.Redis.from_url(redis_url)
        self._script_sha = hashlib.sha1(SET_EACH_IF_NEW.encode(), usedforsecurity=False).hexdigest()
        self._prefix = prefix

    def _connect(self) -> Any:
        return self._client.connection_pool.get_connection()

    def _record(self, connection: Any, entries: list[tuple[str, float]]) -> set[str]:
        from redis.exceptions import NoScriptError

        now = time.time()
        keys = [self._prefix + key for key, _ in entries]
        ttls = [max(1000, int((expires_at - now) * 1000)) for _, expires_at in entries]
        try:
            connection.send_command("EVALSHA", self._script_sha, len(keys), *keys, *ttls)
            answers = connection.read_response()
        except NoScriptError:  # a Redis restarted or flushed since: load it, once
            connection.send_command("SCRIPT", "LOAD", SET_EACH_IF_NEW)
            connection.read_response()
            connection.send_command("EVALSHA", self._script_sha, len(keys), *keys, *ttls)
            answers = connection.read_response()
        return {key for (key, _), answer in zip(entries, answers, strict=True) if answer == 1}

    def _release(self, connection: Any, *, broken: bool) -> None:
        if broken:
            connection.disconnect()
        self._client.connection_pool.release(connection)


class _KeptConnection:
    """A connection one event loop keeps for its batches, closed after ``idle_seconds`` unused.

    The idle check is one timer per ``idle_seconds``, not one per batch: a batch only stamps
    ``last_used``.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, idle_seconds: float, close: Callable[[], None]):
        self.loop = loop
        self.last_used = loop.time()
        self._idle_seconds = idle_seconds
        self._close = close
        self._timer: asyncio.TimerHandle | None = loop.call_later(idle_seconds, self._check)

    def _check(self) -> None:
        idle = self.loop.time() - self.last_used
        if idle >= self._idle_seconds:
            self._timer = None
            self._close()
        else:
            self._timer = self.loop.call_later(self._idle_seconds - idle, self._check)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class _RedisProtocol(asyncio.Protocol):
    """One Redis connection on an event loop: commands written as they come, replies (parsed by
    ``hiredis``) handed to their callers in order."""

    def __init__(self) -> None:
        import hiredis

        self._reader = hiredis.Reader()
        self._waiting: collections.deque[asyncio.Future[Any]] = collections.deque()
        self.transport: asyncio.Transport | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self._reader.feed(data)
        while (reply := self._reader.gets()) is not False:
            if not self._waiting:  # a reply nobody asked for: the stream can no longer be trusted
                self.close()
                return
            answer = self._waiting.popleft()
            if not answer.done():
                answer.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        error = ConnectionError("the connection to Redis was lost")
        while self._waiting:
            answer = self._waiting.popleft()
            if not answer.done():
                answer.set_exception(error)

    def call(self, loop: asyncio.AbstractEventLoop, *args: Any) -> asyncio.Future[Any]:
        import hiredis

        answer: asyncio.Future[Any] = loop.create_future()
        if self.closed or self.transport is None:
            answer.set_exception(ConnectionError("the connection to Redis is closed"))
            return answer
        self._waiting.append(answer)
        self.transport.write(hiredis.pack_command(args))
        return answer

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            if self.transport is not None:
                self.transport.close()


class _Closable(Protocol):
    closed: bool


_Connection = TypeVar("_Connection", bound=_Closable)


class _LoopRecorder(Generic[_Connection]):
    """What the recorders working from the event loop share: one connection per loop, kept while
    it is used (``_KeptConnection``) and closed at shutdown, and a batch that fails on a kept
    connection which served before (it may have gone stale: a server restart) tried once more on
    a fresh one. A store says how to open, use and close its connection."""

    IDLE_SECONDS = 30.0
    TIMEOUT_SECONDS = 5.0

    def __init__(self) -> None:
        self._connections: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, tuple[_Connection, _KeptConnection]
        ] = weakref.WeakKeyDictionary()

    async def record(self, entries: list[tuple[str, float]]) -> set[str]:
        loop = asyncio.get_running_loop()
        kept = self._connections.get(loop)
        fresh = kept is None or kept[0].closed
        if kept is None or kept[0].closed:
            kept = await self._connect(loop)
        kept[1].last_used = loop.time()  # not idle while a batch is out
        try:
            first = await self._send(loop, kept[0], entries)
        except (ConnectionError, OSError, TimeoutError):
            self._drop(loop)
            if fresh:
                raise
            kept = await self._connect(loop)
            first = await self._send(loop, kept[0], entries)
        kept[1].last_used = loop.time()
        self._recorded(loop, len(entries))
        return first

    async def _connect(self, loop: asyncio.AbstractEventLoop) -> tuple[_Connection, _KeptConnection]:
        connection = await self._open(loop)
        kept = (connection, _KeptConnection(loop, self.IDLE_SECONDS, lambda: self._drop(loop)))
        self._connections[loop] = kept
        return kept

    def _drop(self, loop: asyncio.AbstractEventLoop) -> None:
        kept = self._connections.pop(loop, None)
        if kept is not None:
            kept[1].cancel()
            self._close(loop, kept[0])

    async def aclose(self) -> None:
        """Close this event loop's kept connection, if any (at shutdown)."""
        self._drop(asyncio.get_running_loop())

    async def _open(self, loop: asyncio.AbstractEventLoop) -> _Connection:
        raise NotImplementedError

    async def _send(
        self, loop: asyncio.AbstractEventLoop, connection: _Connection, entries: list[tuple[str, float]]
    ) -> set[str]:
        raise NotImplementedError

    def _close(self, loop: asyncio.AbstractEventLoop, connection: _Connection) -> None:
        raise NotImplementedError

    def _recorded(self, loop: asyncio.AbstractEventLoop, count: int) -> None:
        """After each batch (for housekeeping)."""


class RedisLoopRecorder(_LoopRecorder[_RedisProtocol]):
    """Redis from the event loop itself: a batch is one script call (``SET_EACH_IF_NEW``) over a
    connection the loop keeps, with no thread in between.

    The command is written on the loop's socket and the reply read when it arrives, parsed by
    ``hiredis``: about 40 µs of CPU a batch, against 85 µs for ``redis.asyncio`` on a kept
    connection; and, unlike a recorder thread, no hand-over of the GIL and no wake-up of a
    second thread per batch. Plain TCP (``redis://``) and Unix sockets (``unix://``); a URL
    with TLS (``rediss://``) goes through ``RedisJtiRecorder``. A batch that fails on a
    connection that served before is tried once more on a fresh one (see ``JtiRecorder``); a
    batch unanswered after ``TIMEOUT_SECONDS`` fails, and its connection is dropped.
    """

    def __init__(self, redis_url: str, prefix: str) -> None:
        from redis.connection import parse_url

        super().__init__()
        options = parse_url(redis_url)  # type: ignore[no-untyped-call]
        self._path: str | None = options.get("path")
        self._host = options.get("host", "localhost")
        self._port = int(options.get("port", 6379))
        self._setup: list[tuple[Any, ...]] = []
        if options.get("password"):
            username = options.get("username")
            self._setup.append(
                ("AUTH", username, options["password"]) if username else ("AUTH", options["password"])
            )
        if int(options.get("db") or 0):
            self._setup.append(("SELECT", int(options["db"])))
        if options.get("client_name"):
            self._setup.append(("CLIENT", "SETNAME", options["client_name"]))
        self._prefix = prefix
        self._script_sha = hashlib.sha1(SET_EACH_IF_NEW.encode(), usedforsecurity=False).hexdigest()

    @staticmethod
    def serves(redis_url: str) -> bool:
        return redis_url.startswith(("redis://", "unix://"))

    async def _open(self, loop: asyncio.AbstractEventLoop) -> _RedisProtocol:
        async with asyncio.timeout(self.TIMEOUT_SECONDS):
            if self._path is not None:
                _, protocol = await loop.create_unix_connection(_RedisProtocol, self._path)
            else:
                _, protocol = await loop.create_connection(_RedisProtocol, self._host, self._port)
            try:
                for command in self._setup:
                    self._check(await protocol.call(loop, *command))
            except BaseException:
                protocol.close()
                raise
        return protocol

    async def _send(
        self, loop: asyncio.AbstractEventLoop, connection: _RedisProtocol, entries: list[tuple[str, float]]
    ) -> set[str]:
        answers = await self._evaluate(loop, connection, entries)
        return {key for (key, _), answer in zip(entries, answers, strict=True) if answer == 1}

    def _close(self, loop: asyncio.AbstractEventLoop, connection: _RedisProtocol) -> None:
        connection.close()

    async def _evaluate(
        self, loop: asyncio.AbstractEventLoop, protocol: _RedisProtocol, entries: list[tuple[str, float]]
    ) -> list[Any]:
        import hiredis

        now = time.time()
        keys = [self._prefix + key for key, _ in entries]
        ttls = [max(1000, int((expires_at - now) * 1000)) for _, expires_at in entries]
        async with asyncio.timeout(self.TIMEOUT_SECONDS):
            reply = await protocol.call(loop, "EVALSHA", self._script_sha, len(keys), *keys, *ttls)
            if isinstance(reply, hiredis.ReplyError) and str(reply).startswith("NOSCRIPT"):
                # A Redis restarted or flushed since: load the script, once.
                self._check(await protocol.call(loop, "SCRIPT", "LOAD", SET_EACH_IF_NEW))
                reply = await protocol.call(loop, "EVALSHA", self._script_sha, len(keys), *keys, *ttls)
        self._check(reply)
        if not isinstance(reply, list) or len(reply) != len(entries):
            raise RedisAnswerError("Redis answered the single-use record with something unexpected")
        return reply

    @staticmethod
    def _check(reply: Any) -> Any:
        import hiredis

        if isinstance(reply, hiredis.ReplyError):
            raise RedisAnswerError(f"Redis refused the single-use record: {reply}")
        return reply


class RedisAnswerError(Exception):
    """Redis answered with an error (a wrong password, an unknown database, a script error)."""


class SqliteLoopRecorder:
    """``oauth_resource_jtis`` on SQLite, written from the event loop when the write lock is free.

    A batch is ``BEGIN IMMEDIATE``, one multi-row insert and ``COMMIT`` through the driver, on a
    connection of the engine's pool that the loop keeps, with SQLite's busy timeout at zero: when
    another connection or process holds the write lock, ``BEGIN IMMEDIATE`` fails at once, and
    the batch is tried again from the loop a few times over about 20 ms (the other worker's
    batches hold the lock well under a millisecond); a lock held longer than that sends the batch
    to ``DatabaseJtiRecorder``, whose thread waits for it. So the loop never blocks on a lock,
    and a batch costs one short transaction with no thread hand-over unless a long write is out.
    The kept connection never checkpoints the write-ahead log itself (``wal_autocheckpoint=0``):
    every ``CLEANUP_EVERY`` identifiers a thread of the pool deletes expired ones and runs a
    passive checkpoint, off the loop.
    """

    CLEANUP_EVERY = 500
    IDLE_SECONDS = 30.0
    # A batch meeting the lock is tried again from the loop after 0.2, 0.4, 0.8, 1.6 ms and then
    # every 2 ms: about 20 ms in all before the recorder thread takes it over.
    FIRST_RETRY_SECONDS = 0.0002
    LONGEST_RETRY_SECONDS = 0.002
    LOOP_RETRIES = 12

    def __init__(self, engine: Any, retain_seconds: float = RETAIN_SECONDS) -> None:
        self._engine = engine
        self._retain_seconds = retain_seconds
        self._waiting_recorder = DatabaseJtiRecorder(engine, retain_seconds)
        self._connections: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, tuple[Any, _KeptConnection]
        ] = weakref.WeakKeyDictionary()
        self._since_cleanup = 0
        self.retried = 0  # batches that met the lock and were tried again from the loop
        self.handed_over = 0  # batches the lock sent to the waiting recorder (tests, diagnosis)

    async def record(self, entries: list[tuple[str, float]]) -> set[str]:
        loop = asyncio.get_running_loop()
        kept = self._connections.get(loop)
        if kept is None:
            kept = self._connect(loop)
        kept[1].last_used = loop.time()
        first = self._try(kept[0], entries)
        delay = self.FIRST_RETRY_SECONDS
        for _ in range(self.LOOP_RETRIES):
            if first is not None:
                break
            # Another writer holds the lock, most often the other worker's own batch (well under a
            # millisecond): try again shortly, the loop serving other requests meanwhile.
            self.retried += 1
            await asyncio.sleep(delay)
            delay = min(2 * delay, self.LONGEST_RETRY_SECONDS)
            first = self._try(kept[0], entries)
        if first is None:  # a longer write: the recorder thread waits for the lock
            self.handed_over += 1
            first = await self._waiting_recorder.submit(entries)
        self._since_cleanup += len(entries)
        if self._since_cleanup >= self.CLEANUP_EVERY:
            self._since_cleanup = 0
            loop.run_in_executor(None, self._maintain)
        return first

    def _connect(self, loop: asyncio.AbstractEventLoop) -> tuple[Any, _KeptConnection]:
        connection = self._engine.raw_connection()
        cursor = connection.cursor()
        cursor.execute("PRAGMA busy_timeout=0")
        cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()
        kept = (connection, _KeptConnection(loop, self.IDLE_SECONDS, lambda: self._release(loop)))
        self._connections[loop] = kept
        return kept

    def _release(self, loop: asyncio.AbstractEventLoop) -> None:
        kept = self._connections.pop(loop, None)
        if kept is None:
            return
        kept[1].cancel()
        connection = kept[0]
        try:
            cursor = connection.cursor()
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA wal_autocheckpoint=1000")
            cursor.close()
        except Exception:  # noqa: BLE001 - a connection that cannot be reset is not given back
            connection.invalidate()
        else:
            connection.close()

    @staticmethod
    def _try(connection: Any, entries: list[tuple[str, float]]) -> set[str] | None:
        """The new keys, or None when the write lock is taken (nothing written then)."""
        import sqlite3

        cursor = connection.cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:  # SQLITE_BUSY: another writer holds the lock
            cursor.close()
            return None
        try:
            cursor.execute(_insert_statement(len(entries), "?"), _parameters(entries))
            first = {row[0] for row in cursor.fetchall()}
            cursor.execute("COMMIT")
        except sqlite3.OperationalError:
            with contextlib.suppress(Exception):
                cursor.execute("ROLLBACK")
            return None
        finally:
            cursor.close()
        return first

    def _maintain(self) -> None:
        """Off the loop: delete expired identifiers, then let the log be checkpointed."""
        try:
            connection = self._engine.raw_connection()
            try:
                cursor = connection.cursor()
                cursor.execute("BEGIN IMMEDIATE")
                cursor.execute(
                    "DELETE FROM oauth_resource_jtis WHERE issued_at < ?", (_cutoff(self._retain_seconds),)
                )
                cursor.execute("COMMIT")
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
                cursor.close()
            finally:
                connection.close()
        except Exception:  # noqa: BLE001 - maintenance is retried with the next batches
            logger.warning("could not delete expired DPoP proof identifiers", exc_info=True)

    async def aclose(self) -> None:
        self._release(asyncio.get_running_loop())


_NUMBERED_INSERTS: dict[int, bytes] = {}


def _numbered_insert(count: int) -> bytes:
    """``_insert_statement`` with libpq's numbered placeholders ($1, $2, …)."""
    statement = _NUMBERED_INSERTS.get(count)
    if statement is None:
        rows = ", ".join(f"(${2 * index + 1}, ${2 * index + 2})" for index in range(count))
        statement = (  # only placeholders are spliced in
            f'INSERT INTO oauth_resource_jtis (issued_at, "key") VALUES {rows} '  # noqa: S608
            'ON CONFLICT DO NOTHING RETURNING "key"'
        ).encode()
        _NUMBERED_INSERTS[count] = statement
    return statement


class DatabaseRecordError(Exception):
    """The database refused a batch of single-use records (not a lost connection)."""


class _PgConnection:
    """One libpq connection in non-blocking mode, one statement at a time, driven by a loop."""

    def __init__(self, pgconn: Any) -> None:
        self._pgconn = pgconn
        # Read once: libpq no longer tells the socket of a lost connection, and the loop's
        # reader must still be removed then (before a new connection gets the same number).
        self._socket: int = pgconn.socket
        self.closed = False

    @classmethod
    def open(cls, conninfo: bytes) -> _PgConnection:
        from psycopg import pq

        pgconn = pq.PGconn.connect(conninfo)
        if pgconn.status != pq.ConnStatus.OK:
            message = pgconn.get_error_message()
            pgconn.finish()
            raise ConnectionError(f"could not connect to PostgreSQL: {message}")
        pgconn.nonblocking = 1
        return cls(pgconn)

    async def execute(
        self, loop: asyncio.AbstractEventLoop, statement: bytes, parameters: list[bytes]
    ) -> list[bytes]:
        """The first column of the rows the statement answers."""
        import psycopg
        from psycopg import pq

        if self.closed:
            raise ConnectionError("the connection to PostgreSQL is closed")
        pgconn = self._pgconn
        socket = self._socket
        answer: asyncio.Future[list[Any]] = loop.create_future()
        results: list[Any] = []

        def fail(error: Exception) -> None:
            self.close_on(loop)
            if not answer.done():
                answer.set_exception(error)

        def readable() -> None:
            try:
                pgconn.consume_input()
                while not pgconn.is_busy():
                    result = pgconn.get_result()
                    if result is None:
                        loop.remove_reader(socket)
                        if not answer.done():
                            answer.set_result(results)
                        return
                    results.append(result)
            except psycopg.Error as error:
                fail(ConnectionError(f"the connection to PostgreSQL was lost: {error}"))

        def writable() -> None:
            try:
                if pgconn.flush() == 0:
                    loop.remove_writer(socket)
            except psycopg.Error as error:
                fail(ConnectionError(f"the connection to PostgreSQL was lost: {error}"))

        try:
            pgconn.send_query_params(statement, parameters)
            if pgconn.flush() == 1:  # the rest when the socket takes it
                loop.add_writer(socket, writable)
        except psycopg.Error as error:
            fail(ConnectionError(f"the connection to PostgreSQL was lost: {error}"))
            return await answer  # raises
        loop.add_reader(socket, readable)
        try:
            outcome = await answer
        except BaseException:  # failed, timed out or cancelled: the connection's state is unknown
            self.close_on(loop)
            raise
        for result in outcome:
            if result.status == pq.ExecStatus.FATAL_ERROR and pgconn.status != pq.ConnStatus.OK:
                self.close_on(loop)
                raise ConnectionError(f"the connection to PostgreSQL was lost: {result.error_message!r}")
            if result.status not in (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK):
                raise DatabaseRecordError(
                    f"PostgreSQL refused the single-use record: {result.error_message!r}"
                )
        return [
            value
            for result in outcome
            for value in (result.get_value(row, 0) for row in range(result.ntuples))
        ]

    def close_on(self, loop: asyncio.AbstractEventLoop) -> None:
        if not self.closed:
            with contextlib.suppress(Exception):
                loop.remove_reader(self._socket)
            with contextlib.suppress(Exception):
                loop.remove_writer(self._socket)
            self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._pgconn.finish()


class PostgresLoopRecorder(_LoopRecorder[_PgConnection]):
    """``oauth_resource_jtis`` on PostgreSQL from the event loop itself, with no thread in between.

    The loop keeps a libpq connection of its own (psycopg's ``pq`` layer, in non-blocking mode):
    a batch is one multi-row ``INSERT … ON CONFLICT DO NOTHING RETURNING "key"`` sent on the
    connection's socket, and its result is read when the socket has it, the loop serving other
    requests meanwhile. One statement is its own transaction, committed with
    ``synchronous_commit = off`` (set once for the connection, as for ``DatabaseJtiRecorder``).
    This avoids both the recorder thread's hand-over of the GIL and wake-ups, and the layers of
    psycopg's asyncio connection (measured no cheaper than the thread). A batch that fails on a
    connection that served before is tried once more on a fresh one; a batch unanswered after
    ``TIMEOUT_SECONDS`` fails and its connection is closed. Every ``CLEANUP_EVERY`` identifiers
    a thread of the pool deletes the proofs issued more than ``retain_seconds`` ago.
    """

    CLEANUP_EVERY = 500

    def __init__(self, engine: Any, retain_seconds: float = RETAIN_SECONDS) -> None:
        super().__init__()
        self._engine = engine
        self._retain_seconds = retain_seconds
        url = engine.url.set(drivername="postgresql")
        self._conninfo = url.render_as_string(hide_password=False).encode()
        self._since_cleanup = 0

    @staticmethod
    def serves(engine: Any) -> bool:
        return bool(engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg")

    def _recorded(self, loop: asyncio.AbstractEventLoop, count: int) -> None:
        self._since_cleanup += count
        if self._since_cleanup >= self.CLEANUP_EVERY:
            self._since_cleanup = 0
            loop.run_in_executor(None, self._maintain)

    async def _open(self, loop: asyncio.AbstractEventLoop) -> _PgConnection:
        async with asyncio.timeout(self.TIMEOUT_SECONDS):
            connection = await loop.run_in_executor(None, _PgConnection.open, self._conninfo)
            try:
                await connection.execute(loop, b"SET synchronous_commit = off", [])
            except BaseException:
                connection.close_on(loop)
                raise
        return connection

    def _close(self, loop: asyncio.AbstractEventLoop, connection: _PgConnection) -> None:
        connection.close_on(loop)

    async def _send(
        self, loop: asyncio.AbstractEventLoop, connection: _PgConnection, entries: list[tuple[str, float]]
    ) -> set[str]:
        parameters = [str(value).encode() for value in _parameters(entries)]
        async with asyncio.timeout(self.TIMEOUT_SECONDS):
            rows = await connection.execute(loop, _numbered_insert(len(entries)), parameters)
        return {row.decode() for row in rows}

    def _maintain(self) -> None:
        """Off the loop: delete the records of proofs that would be refused as stale anyway."""
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    text("DELETE FROM oauth_resource_jtis WHERE issued_at < :cutoff"),
                    {"cutoff": _cutoff(self._retain_seconds)},
                )
        except Exception:  # noqa: BLE001 - maintenance is retried with the next batches
            logger.warning("could not delete expired DPoP proof identifiers", exc_info=True)


class DatabaseResourceReplayStore:
    """Proofs sent to /v1 without Redis: ``oauth_resource_jtis``, shared by every worker and process.

    A proof is recorded by its ``iat`` and its key (the SHA-256 of its key's thumbprint, URL and
    ``jti``), in that order: the proofs of one second are neighbours in the table's only index,
    so a batch writes one or two of its pages, where an index on the key alone takes a random
    page per proof (measured on SQLite: a batch of 8 three and a half times cheaper). A replay
    is the same signed proof, with the same ``iat``, and is refused. (A proof with a ``jti``
    used before but another ``iat`` is a new proof, which only the key's holder can sign.)

    Group commit (``GroupCommit``): the identifiers of concurrent requests are recorded together
    in one short transaction, from the event loop (``SqliteLoopRecorder``,
    ``PostgresLoopRecorder`` with psycopg), else by ``DatabaseJtiRecorder``'s thread. A replay is
    refused by the database (the insert finds the key), so nothing is kept in the process's
    memory: keeping every identifier of the last minute there, and pruning it, cost more per
    request than the rare replay it would spare a query.
    """

    def __init__(self, ctx: Any) -> None:
        self._loop_recorder: SqliteLoopRecorder | PostgresLoopRecorder | None = None
        # Kept a minute beyond the oldest proof accepted, so a clock step does not free a record.
        retain = float(ctx.settings.dpop_proof_max_age_seconds) + 60.0
        if ctx.engine.dialect.name == "sqlite":
            self._loop_recorder = SqliteLoopRecorder(ctx.engine, retain)
            self._batches = GroupCommit(self._loop_recorder.record)
        elif PostgresLoopRecorder.serves(ctx.engine):
            self._loop_recorder = PostgresLoopRecorder(ctx.engine, retain)
            self._batches = GroupCommit(self._loop_recorder.record)
        else:
            self._batches = GroupCommit(DatabaseJtiRecorder(ctx.engine, retain).submit)

    async def first_use_async(self, key: str, expires_at: float, issued_at: int) -> bool:
        return await self._batches.first_use(key, float(issued_at))

    async def aclose(self) -> None:
        if self._loop_recorder is not None:
            await self._loop_recorder.aclose()


class RedisResourceReplayStore:
    """Proofs sent to /v1 with Redis: shared by every worker and server using it.

    Group commit (``GroupCommit``): the identifiers of concurrent requests go to Redis in one
    script call, from the event loop (``RedisLoopRecorder``), or by ``RedisJtiRecorder``'s thread
    for a TLS connection.
    """

    def __init__(self, redis_url: str, prefix: str) -> None:
        self._loop_recorder: RedisLoopRecorder | None = None
        if RedisLoopRecorder.serves(redis_url):
            self._loop_recorder = RedisLoopRecorder(redis_url, prefix)
            self._batches = GroupCommit(self._loop_recorder.record)
        else:
            self._batches = GroupCommit(RedisJtiRecorder(redis_url, prefix).submit)

    async def first_use_async(self, key: str, expires_at: float, issued_at: int) -> bool:
        return await self._batches.first_use(key, expires_at)

    async def aclose(self) -> None:
        if self._loop_recorder is not None:
            await self._loop_recorder.aclose()


class DeferredRecord:
    """Takes the identifier a check would record, for the caller to record asynchronously."""

    key = ""
    expires_at = 0.0

    def first_use(self, key: str, expires_at: float, session: Session | None = None) -> bool:
        self.key, self.expires_at = key, expires_at
        return True


def make_resource_replay_store(ctx: Any) -> AsyncReplayStore:
    """The store of proofs' identifiers on /v1: Redis when configured, else the database."""
    settings = ctx.settings
    if settings.redis_url:
        return RedisResourceReplayStore(settings.redis_url, settings.redis_prefix + "jti:")
    return DatabaseResourceReplayStore(ctx)


def make_replay_store(ctx: Any) -> ReplayStore:
    settings = ctx.settings
    if settings.redis_url:
        return RedisReplayStore(settings.redis_url, settings.redis_prefix + "jti:")
    return DatabaseReplayStore(ctx)
