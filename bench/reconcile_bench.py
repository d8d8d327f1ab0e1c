"""The reconciliation at scale: what ``spiko register reconcile`` and the close's check cost.

Builds the register of ``close_bench.py`` (one fund, N accounts each holding shares, N/10 orders
executed by Tuesday's close, every account's positions booked), then times
``services.reconcile.reconcile`` of Tuesday for the whole register and for the EUTBL fund alone
(what the close runs), median of ``--repeat`` runs, next to the time of Tuesday's close itself.

    .venv/bin/python bench/reconcile_bench.py [--sizes 10000,100000] [--sqlite-only | --postgres-only]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import time as dtime
from decimal import Decimal
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import close_bench  # noqa: E402  (the register it builds)
from sqlalchemy import event  # noqa: E402

from spiko.config import Settings  # noqa: E402
from spiko.context import AppContext  # noqa: E402
from spiko.db.migrate import upgrade  # noqa: E402
from spiko.services import clock, close, reconcile, reference  # noqa: E402


def _timed(ctx: AppContext, repeat: int, fund_id: str | None) -> tuple[float, list[Any]]:
    runs = []
    results: list[Any] = []
    for _ in range(repeat):
        started = time.perf_counter()
        with ctx.transaction(write=False) as session:
            results = reconcile.reconcile(session, close_bench.TUESDAY, fund_id=fund_id)
        runs.append(time.perf_counter() - started)
    return statistics.median(runs), results


@contextmanager
def _without_triggers(ctx: AppContext, kind: str) -> Iterator[None]:
    """On PostgreSQL, build the register with its triggers off: its one transaction would otherwise
    take an advisory lock per account in the positions' invalidation trigger (more than the lock
    table holds at 100,000 accounts), to invalidate positions that do not exist yet."""
    if kind != "postgresql":
        yield
        return

    def replica(connection: Any) -> None:
        connection.exec_driver_sql("SET LOCAL session_replication_role = replica")

    event.listen(ctx.engine, "begin", replica)
    try:
        yield
    finally:
        event.remove(ctx.engine, "begin", replica)


def run(kind: str, size: int, repeat: int) -> dict[str, Any]:
    with close_bench.database(kind) as url:
        upgrade(url)
        ctx = AppContext(Settings(database_url=url, issuer="http://bench", secret_key=close_bench.SECRET))
        with _without_triggers(ctx, kind):
            world = close_bench.populate(ctx, size)
        with ctx.transaction() as session:
            close.close_day(session, close_bench.MONDAY)
        close_bench.put_orders(ctx, world, size // 10)
        with ctx.transaction() as session:
            clock.set_today(session, close_bench.TUESDAY, dtime(17))
            for share_class in reference.list_share_classes(session):
                value = (
                    close_bench.NAV_TUESDAY
                    if share_class.id == world["share_class_id"]
                    else Decimal("1.0001")
                )
                reference.publish_nav(session, share_class.id, close_bench.TUESDAY, value)
        started = time.perf_counter()
        with ctx.transaction() as session:
            close.close_day(session, close_bench.TUESDAY)
        close_seconds = time.perf_counter() - started
        with ctx.transaction(write=False) as session:
            fund_id = reference.get_share_class(session, world["share_class_id"]).fund_id
        whole, results = _timed(ctx, repeat, None)
        one_fund, _ = _timed(ctx, repeat, fund_id)
        eutbl = next(result for result in results if result.share_class.id == world["share_class_id"])
        ctx.engine.dispose()
        return {
            "kind": kind,
            "accounts": size,
            "balanced": all(result.balanced for result in results),
            "holders": eutbl.holders,
            "positionsChecked": eutbl.positions_checked,
            "close_s": round(close_seconds, 2),
            "reconcile_all_s": round(whole, 3),
            "reconcile_fund_s": round(one_fund, 3),
            "reconcile_share_of_close": round(one_fund / close_seconds, 3),
        }


def main() -> None:
    import logging

    logging.disable(logging.INFO)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="accounts per run, comma-separated")
    parser.add_argument("--repeat", type=int, default=3)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--sqlite-only", action="store_true")
    group.add_argument("--postgres-only", action="store_true")
    args = parser.parse_args()
    kinds = (
        ["sqlite"] if args.sqlite_only else ["postgresql"] if args.postgres_only else ["sqlite", "postgresql"]
    )
    print(json.dumps({"loadavg": os.getloadavg()}), flush=True)
    for kind in kinds:
        for size in (int(value) for value in args.sizes.split(",")):
            print(json.dumps(run(kind, size, args.repeat)), flush=True)
    print(json.dumps({"loadavg": os.getloadavg()}), flush=True)


if __name__ == "__main__":
    main()
