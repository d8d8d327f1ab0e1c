"""Webhook delivery: commit -> receipt latency and deliveries/s, with real workers on PostgreSQL.

Creates a fresh PostgreSQL database, 100 investors each with one webhook endpoint on its own
loopback receiver (100 listening ports in a receiver process that verifies every signature with
the ``standardwebhooks`` package), starts ``spiko worker`` twice, and writes 10,000 events
through the outbox (``services.events.record``, as the services do) at a steady rate, in
transactions of one event per investor. The commit time of each transaction and the receipt time
of each message give the latency; the count over the span from first commit to last receipt gives
the throughput.

    .venv/bin/python bench/webhooks_bench.py
    .venv/bin/python bench/webhooks_bench.py --events 2000 --rate 200 --workers 1

Only talks to 127.0.0.1; the workers and the receiver process are stopped and the database
dropped at the end. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

RECEIVERS = r"""
import asyncio, json, sys, time
from standardwebhooks.webhooks import Webhook

secrets = json.loads(sys.argv[1])  # port -> secret
expected = int(sys.argv[2])
out_path = sys.argv[3]
arrivals = {}
bad = 0
done = asyncio.Event()

async def handle(reader, writer, hook):
    global bad
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            received = time.time()
            try:
                hook.verify(body, headers, json_parse=False)
            except Exception:
                bad += 1
            else:
                arrivals.setdefault(headers["webhook-id"], received)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\r\nok")
            await writer.drain()
            if len(arrivals) >= expected:
                done.set()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()

async def main():
    servers = []
    for port, secret in secrets.items():
        hook = Webhook(secret)
        serve = lambda r, w, h=hook: handle(r, w, h)  # noqa: E731
        servers.append(await asyncio.start_server(serve, "127.0.0.1", int(port)))
    print("ready", flush=True)
    try:
        await asyncio.wait_for(done.wait(), timeout=float(sys.argv[4]))
    except asyncio.TimeoutError:
        pass
    with open(out_path, "w") as handle_out:
        json.dump({"arrivals": arrivals, "bad": bad}, handle_out)

asyncio.run(main())
"""


def free_ports(count: int) -> list[int]:
    import socket

    sockets, ports = [], []
    for _ in range(count):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sockets.append(sock)
        ports.append(sock.getsockname()[1])
    for sock in sockets:
        sock.close()
    return ports


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--investors", type=int, default=100)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=400.0, help="events written per second")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=16, help="deliveries in flight per worker")
    parser.add_argument(
        "--timeout", type=float, default=180.0, help="give up waiting after this many seconds"
    )
    args = parser.parse_args()

    from spiko.config import Settings, normalize_database_url
    from spiko.context import AppContext
    from spiko.db.migrate import upgrade
    from spiko.db.models.identity import Investor
    from spiko.services import events, webhooks

    name = f"spiko_webhooks_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(normalize_database_url(args.postgres_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    database_url = args.postgres_url.rsplit("/", 1)[0] + "/" + name
    secret_key = "bench-" + uuid.uuid4().hex * 2
    workdir = Path(tempfile.mkdtemp(prefix="spiko-webhooks-bench-"))
    processes: list[subprocess.Popen[bytes]] = []
    ctx = None
    try:
        upgrade(database_url)
        settings = Settings(
            database_url=database_url, secret_key=secret_key, webhook_allow_private_networks=True
        )
        ctx = AppContext(settings)
        ports = free_ports(args.investors)
        investor_ids: list[str] = []
        secrets: dict[str, str] = {}
        with ctx.transaction() as session:
            for index, port in enumerate(ports):
                investor = Investor(type="organization", name=f"Bench {index}")
                session.add(investor)
                session.flush()
                _, secret = webhooks.create_endpoint(
                    session,
                    secret_key=secret_key,
                    investor_id=investor.id,
                    url=f"http://127.0.0.1:{port}/hooks",
                    event_types=["deposit_order.created"],
                )
                investor_ids.append(investor.id)
                secrets[str(port)] = secret
        out_path = workdir / "arrivals.json"
        receiver = subprocess.Popen(
            [
                sys.executable,
                "-c",
                RECEIVERS,
                json.dumps(secrets),
                str(args.events),
                str(out_path),
                str(args.timeout),
            ],
            stdout=subprocess.PIPE,
        )
        processes.append(receiver)
        assert receiver.stdout is not None and receiver.stdout.readline().strip() == b"ready"
        env = {
            **os.environ,
            "SPIKO_DATABASE_URL": database_url,
            "SPIKO_SECRET_KEY": secret_key,
            "SPIKO_WEBHOOK_ALLOW_PRIVATE_NETWORKS": "1",
            "SPIKO_LOG_LEVEL": "WARNING",
        }
        logs = []
        for index in range(args.workers):
            log = open(workdir / f"worker-{index}.log", "wb")  # noqa: SIM115 - closed at the end
            logs.append(log)
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "spiko.cli", "worker", "--concurrency", str(args.concurrency)],
                    env=env,
                    cwd=workdir,
                    stderr=log,
                )
            )
        time.sleep(2)  # the workers start polling
        worker_pids = [process.pid for process in processes[1:]]
        cpu_before = sum(cpu_seconds(pid) for pid in worker_pids)
        committed: dict[str, float] = {}
        batch = len(investor_ids)
        started = time.time()
        written = 0
        while written < args.events:
            count = min(batch, args.events - written)
            ids = []
            with ctx.transaction() as session:
                for investor_id in investor_ids[:count]:
                    event = events.record(
                        session,
                        investor_id,
                        "deposit_order.created",
                        {"id": str(uuid.uuid4()), "amount": {"value": "1000.00", "currency": "EUR"}},
                    )
                    assert event is not None
                    ids.append(event.id)
            now = time.time()
            for event_id in ids:
                committed[event_id] = now
            written += count
            pause = started + written / args.rate - time.time()
            if pause > 0:
                time.sleep(pause)
        write_span = time.time() - started
        receiver.wait(args.timeout + 30)
        worker_cpu = sum(cpu_seconds(pid) for pid in worker_pids) - cpu_before
        load = os.getloadavg()[0]
        result = json.loads(out_path.read_text())
        arrivals: dict[str, float] = result["arrivals"]
        latencies = [
            arrivals[event_id] - committed[event_id] for event_id in arrivals if event_id in committed
        ]
        first_commit = min(committed.values())
        last_receipt = max(arrivals.values()) if arrivals else first_commit
        report: dict[str, Any] = {
            "database": "postgresql",
            "investors_and_endpoints": args.investors,
            "events": args.events,
            "write_rate_per_s": args.rate,
            "workers": args.workers,
            "concurrency_per_worker": args.concurrency,
            "written_per_s": round(args.events / write_span, 1),
            "delivered": len(arrivals),
            "bad_signatures": result["bad"],
            "latency_p50_s": round(statistics.median(latencies), 3) if latencies else None,
            "latency_p99_s": round(percentile(latencies, 0.99), 3) if latencies else None,
            "latency_max_s": round(max(latencies), 3) if latencies else None,
            "span_s": round(last_receipt - first_commit, 2),
            "deliveries_per_s": round(len(arrivals) / (last_receipt - first_commit), 1) if arrivals else 0,
            # Less disturbed by other load on the machine than the rates above:
            "worker_cpu_ms_per_delivery": round(1000 * worker_cpu / len(arrivals), 2) if arrivals else None,
            "load_average_1min": round(load, 1),
            "cpus": os.cpu_count(),
        }
        print(json.dumps(report))
        if len(arrivals) < args.events:
            for path in sorted(workdir.glob("worker-*.log")):
                print(path.name, path.read_text()[-3000:], file=sys.stderr)
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if ctx is not None:
            ctx.close()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
