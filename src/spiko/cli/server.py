"""``spiko serve`` and ``spiko db upgrade``."""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import sys
import tempfile
import threading
from typing import Any

from spiko.cli.common import command, group


def register(commands: Any) -> None:
    serve = commands.add_parser(
        "serve",
        help="run the whole system (APIs, OAuth server, investor app)",
        description="Run the whole system in one ASGI application; applies migrations first.",
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.add_argument("--demo", action="store_true", help="seed demo data into an empty database")
    # The server's output is the demo's login and key, for people: not a JSON document.
    serve.set_defaults(handler=run_serve, prints_json=False)

    db = group(commands, "db", "database schema")
    command(db, "upgrade", "apply every pending migration", run_db_upgrade)


def run_db_upgrade(args: argparse.Namespace) -> None:
    from spiko.config import Settings
    from spiko.db.migrate import upgrade

    upgrade(Settings.from_env().database_url)
    print("database is up to date", file=sys.stderr)


def _stop(signum: int, frame: Any) -> None:
    """SIGTERM, as Ctrl-C: uvicorn shuts down gracefully on it, then raises it again once it has
    finished; raised here as KeyboardInterrupt, it ends ``run_serve`` normally (exit 0) instead of
    killing the process (exit 143, which a supervisor counts as a crash)."""
    raise KeyboardInterrupt


def run_serve(args: argparse.Namespace) -> None:
    # Ctrl-C or SIGTERM is how an operator stops the server: a clean exit, not an error.
    with contextlib.suppress(KeyboardInterrupt):
        _serve(args)
    print("Spiko stopped", file=sys.stderr, flush=True)


def _serve(args: argparse.Namespace) -> None:
    import uvicorn

    from spiko.config import Settings, load_env_file
    from spiko.core.observability import uvicorn_log_config
    from spiko.db.migrate import upgrade

    if args.workers < 1:
        raise ValueError("--workers must be at least 1")
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop)
    load_env_file()  # before the issuer's default below, so that a SPIKO_ISSUER in .env counts
    os.environ.setdefault("SPIKO_ISSUER", f"http://{args.host}:{args.port}")
    settings = Settings.from_env(port=args.port)
    # Workers must share one secret key (sessions, CSRF tokens, API key hashes): fix it in the
    # environment they inherit, whether it came from the environment or from the key file.
    os.environ["SPIKO_SECRET_KEY"] = settings.secret_key
    upgrade(settings.database_url)
    if settings.sqlalchemy_url.startswith("sqlite"):
        # One webhook worker per server process unless the operator runs `spiko worker` instead.
        os.environ.setdefault("SPIKO_WEBHOOK_IN_PROCESS_WORKER", "1")
    if args.demo:
        # The demo is a sandbox on one machine: simulations over HTTP, webhooks to local receivers.
        os.environ.setdefault("SPIKO_SANDBOX_MODE", "1")
        os.environ.setdefault("SPIKO_WEBHOOK_ALLOW_PRIVATE_NETWORKS", "1")
        os.environ.setdefault("SPIKO_WEBHOOK_IN_PROCESS_WORKER", "1")
        from spiko.context import AppContext
        from spiko.demo import print_demo, seed_demo

        ctx = AppContext(settings)
        try:
            print_demo(seed_demo(ctx), settings)
        finally:
            ctx.close()
    metrics_dir = None
    if args.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each worker counts into files here, so /metrics reports the sum over all workers.
        metrics_dir = tempfile.mkdtemp(prefix="spiko-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    print(f"Spiko listening on {settings.issuer} (workers: {args.workers})", file=sys.stderr, flush=True)
    try:
        uvicorn.run(
            "spiko.app:create_app_from_env",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers if args.workers > 1 else None,
            access_log=False,
            log_config=uvicorn_log_config("warning"),
            timeout_graceful_shutdown=10,
            proxy_headers=True,
        )
    finally:
        if metrics_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)
