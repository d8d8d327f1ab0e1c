"""``spiko worker``: deliver webhooks until stopped (SIGINT or SIGTERM)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any


def register(commands: Any) -> None:
    worker = commands.add_parser(
        "worker",
        help="deliver webhooks (any number may run against one PostgreSQL database)",
        description="Deliver queued webhook deliveries until stopped; applies migrations first.",
    )
    worker.add_argument(
        "--concurrency", type=int, default=None, help="deliveries in flight at once (default 16)"
    )
    worker.add_argument("--once", action="store_true", help="deliver what is due now, then exit")
    worker.set_defaults(handler=run_worker)


def run_worker(args: argparse.Namespace) -> dict[str, int] | None:
    from spiko.cli.common import context
    from spiko.outbox.delivery import Worker

    if args.concurrency is not None and args.concurrency < 1:
        raise ValueError("--concurrency must be at least 1")
    with context() as ctx:
        worker = Worker(ctx, concurrency=args.concurrency)
        try:
            if args.once:
                attempted = 0
                while True:
                    batch = worker.run_once()
                    attempted += batch
                    if batch < worker.concurrency:
                        return {"attempted": attempted}
            stop = threading.Event()
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, lambda *_: stop.set())
            print(f"Spiko webhook worker {worker.name} started", file=sys.stderr, flush=True)
            worker.run(stop)
            print(f"Spiko webhook worker {worker.name} stopped", file=sys.stderr, flush=True)
            return None
        finally:
            worker.close()
