"""How long a revoked API key keeps working on other workers: with Redis, and without.

Starts two ``spiko serve --workers N`` on one fresh database: one with ``SPIKO_REDIS_URL`` (a
revocation is published and every worker drops the key when the message arrives), one without
(every worker keeps its cached view until it expires, at most one second after it was read).
Each trial creates an API key, keeps it in use from several connections until the moment it is
revoked (so the workers' cached entries have the ages they have in production), revokes it in
another process, the way ``spiko api-keys revoke`` does, and then sends bursts of requests on
new connections. The trial's figure is the time from the revocation's commit to the start of
the first burst that both workers refused entirely, confirmed by three more such bursts. The two
servers take turns, trial by trial, in the same run.

    .venv/bin/python bench/revocation_bench.py --trials 40
    .venv/bin/python bench/revocation_bench.py --database postgresql

Only talks to 127.0.0.1 and the Redis at ``--redis-url``; every server it starts is stopped.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api_key_bench import PYTHON, free_port, fresh_database, stop, wait_until_up  # noqa: E402


def start(env: dict[str, str], workdir: Path, workers: int, name: str) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    log_path = workdir / f"{name}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [PYTHON, "-m", "spiko.cli", "serve", "--port", str(port), "--workers", str(workers)],
            env={**env, "SPIKO_ISSUER": f"http://127.0.0.1:{port}", "SPIKO_LOG_LEVEL": "WARNING"},
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    wait_until_up(url + "/healthz", process, log_path)
    return url, process


class Trial:
    """One key, kept busy until revoked; then the time until every worker refuses it."""

    def __init__(self, url: str, client_id: str, client_secret: str, pool: ThreadPoolExecutor) -> None:
        token = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        self.url = url + "/v1/investors/me"
        self.headers = {"Authorization": "Basic " + token}
        self.pool = pool
        self.busy = threading.Event()
        self._local = threading.local()
        self._clients: list[httpx.Client] = []

    def _http(self) -> httpx.Client:
        # One client per thread, without keep-alive: every request on a new connection, so both
        # workers get their share, and no connection is shared between threads.
        http = getattr(self._local, "http", None)
        if http is None:
            http = httpx.Client(timeout=5, limits=httpx.Limits(max_keepalive_connections=0))
            self._local.http = http
            self._clients.append(http)
        return http

    def call(self, _: int = 0) -> int:
        return self._http().get(self.url, headers=self.headers).status_code

    def close(self) -> None:
        for http in self._clients:
            http.close()

    def keep_busy(self) -> None:
        while self.busy.is_set():
            self.call()

    def burst(self, size: int = 8) -> list[int]:
        return list(self.pool.map(self.call, range(size)))

    def time_to_refusal(self, revoked_at: float, limit: float = 5.0) -> float:
        refused_since: float | None = None
        confirmations = 0
        while time.monotonic() - revoked_at < limit:
            began = time.monotonic() - revoked_at
            statuses = set(self.burst())
            if statuses == {401}:
                if refused_since is None:
                    refused_since = began
                confirmations += 1
                if confirmations > 3:
                    return refused_since
            else:
                refused_since, confirmations = None, 0
        raise RuntimeError(f"still accepted {limit} s after the revocation")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--trials", type=int, default=30, help="per server")
    args = parser.parse_args()

    from spiko.config import Settings
    from spiko.context import AppContext
    from spiko.db.migrate import upgrade
    from spiko.services import identity

    workdir = Path(tempfile.mkdtemp(prefix="spiko-revocation-bench-"))
    processes: list[subprocess.Popen[bytes]] = []
    prefix = f"spiko-bench-{uuid.uuid4().hex[:8]}:"
    secret_key = secrets.token_urlsafe(48)
    try:
        with fresh_database(args.database, workdir, args.postgres_url) as database_url:
            upgrade(database_url)
            env = {**os.environ, "SPIKO_DATABASE_URL": database_url, "SPIKO_SECRET_KEY": secret_key}
            with_redis_url, with_redis = start(
                {**env, "SPIKO_REDIS_URL": args.redis_url, "SPIKO_REDIS_PREFIX": prefix},
                workdir,
                args.workers,
                "with-redis",
            )
            without_url, without = start(env, workdir, args.workers, "without-redis")
            processes += [with_redis, without]
            # The revoking process: like the CLI, it publishes when it knows a Redis.
            revokers = {
                "redis": AppContext(
                    Settings(database_url=database_url, secret_key=secret_key, redis_url=args.redis_url,
                             redis_prefix=prefix)
                ),
                "ttl": AppContext(Settings(database_url=database_url, secret_key=secret_key)),
            }  # fmt: skip
            servers = {"redis": with_redis_url, "ttl": without_url}
            with revokers["ttl"].transaction() as session:
                investor, _ = identity.create_investor(
                    session, name="Bench SAS", email="bench@example.com", password="bench-password"
                )
                investor_id = investor.id
            results: dict[str, list[float]] = {"redis": [], "ttl": []}
            publish_ms: list[float] = []
            with ThreadPoolExecutor(max_workers=12) as pool:
                for index in range(args.trials * 2):
                    mode = "redis" if index % 2 == 0 else "ttl"
                    ctx = revokers[mode]
                    with ctx.transaction() as session:
                        key = identity.create_api_key(
                            session,
                            ctx.api_keys,
                            investor_id=investor_id,
                            name=f"k{index}",
                            max_live_keys=10**6,
                        )
                    trial = Trial(servers[mode], key.client_id, key.client_secret, pool)
                    assert set(trial.burst(16)) == {200}
                    trial.busy.set()
                    busy = [pool.submit(trial.keep_busy) for _ in range(3)]
                    time.sleep(random.uniform(0.2, 1.2))  # cached entries of every age
                    with ctx.transaction() as session:
                        identity.revoke_api_key(session, client_id=key.client_id)
                    revoked_at = time.monotonic()  # committed
                    ctx.api_keys.invalidate(key.client_id)  # publishes (with Redis)
                    publish_ms.append((time.monotonic() - revoked_at) * 1000)
                    trial.busy.clear()
                    for future in busy:
                        future.result()
                    results[mode].append(trial.time_to_refusal(revoked_at) * 1000)
                    trial.close()
            for ctx in revokers.values():
                ctx.close()

        def summary(values: list[float]) -> dict[str, float]:
            ordered = sorted(values)
            return {
                "median_ms": round(statistics.median(ordered), 1),
                "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))], 1),
                "max_ms": round(ordered[-1], 1),
            }

        print(
            json.dumps(
                {
                    "database": args.database,
                    "workers": args.workers,
                    "trials_per_server": args.trials,
                    "with_redis": summary(results["redis"]),
                    "without_redis": summary(results["ttl"]),
                    "publish": summary(publish_ms[0::2]),
                },
                indent=2,
            )
        )
    finally:
        for process in processes:
            stop(process)


if __name__ == "__main__":
    main()
