"""The daily close at scale: one fund with N accounts and N/10 orders, on SQLite and PostgreSQL.

For each database and size the script bulk-inserts a register on the EUTBL share class: N
accounts (ten per investor) each holding shares subscribed on Monday 2025-03-03, closes Monday
(the first close, which books every account's first position), runs on PostgreSQL the VACUUM
ANALYZE that autovacuum would run in the day between two closes (``--no-vacuum`` skips it), then
puts N/10 orders on Tuesday (half funded deposits, half withdrawals by shares, each on its own
account), publishes Tuesday's NAV and times ``spiko close-day`` of that day
(``services.close.close_day`` in one transaction, commit included): execute the orders, book the
positions of every account, reconcile, close. It closes Tuesday ``--repeat`` times (3), each time
on a fresh copy of the database, and prints the medians.

It then times the read of an account's 30-day position history right after the close (after
one read of another account, which warms the connection pool): 20 alternating rounds of the
first read of an account not read since the close (ten with an order that day, ten without) and
a later read of the same account; the ratio of their medians shows that the close left nothing
for a read to replay. The close's CPU time (this process, plus its PostgreSQL backend's from
/proc) is printed beside its wall time: on a shared machine it varies less with the load.

    .venv/bin/python bench/close_bench.py [--sizes 10000,100000] [--sqlite-only | --postgres-only]
        [--repeat 3] [--no-vacuum]

PostgreSQL: SPIKO_BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test); the
script creates a database of its own and drops it at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import ROUND_DOWN, Decimal
from typing import Any

from sqlalchemy import func, insert, select, text

from spiko.config import Settings
from spiko.context import AppContext
from spiko.db.migrate import upgrade
from spiko.db.models.identity import Investor
from spiko.db.models.ledger import ShareMovement
from spiko.db.models.orders import Account, BankAccount, DepositOrder, WithdrawalOrder
from spiko.db.models.reporting import DailyPosition
from spiko.services import clock, close, reference, seed
from spiko.services.reporting import positions as store

MONDAY = date(2025, 3, 3)
TUESDAY = date(2025, 3, 4)
NAV_MONDAY = Decimal("1.045300")
NAV_TUESDAY = Decimal("1.045400")
SECRET = "bench-secret-key-" + "x" * 32
BATCH = 5000
CPU_OF = {"postgresql": ": this process and its PostgreSQL backend", "sqlite": ""}


@contextmanager
def database(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/close_bench.db"
        return
    import psycopg

    name = f"spiko_close_bench_{uuid.uuid4().hex[:8]}"
    admin_url = os.environ.get("SPIKO_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    base = admin_url.rpartition("/")[0]
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bulk(session: Any, model: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        session.execute(insert(model), rows[start : start + BATCH])


def populate(ctx: AppContext, size: int) -> dict[str, Any]:
    """N accounts holding EUTBL since Monday (executed deposits and their ledger rows)."""
    at = datetime.combine(MONDAY, dtime(8), tzinfo=UTC)
    with ctx.transaction() as session:
        clock.set_today(session, MONDAY, dtime(8))
        share_class = seed.seed_reference_data(session, until_year=2026)["EUTBL"]
        share_class_id = share_class.id
        reference.publish_nav(session, share_class_id, MONDAY, NAV_MONDAY)
    investors = [str(uuid.uuid4()) for _ in range(max(1, size // 10))]
    accounts = [str(uuid.uuid4()) for _ in range(size)]
    owner = {account: investors[index // 10] for index, account in enumerate(accounts)}
    banks = {investor: str(uuid.uuid4()) for investor in investors}
    with ctx.transaction() as session:
        bulk(
            session,
            Investor,
            [
                {"id": i, "type": "organization", "name": f"Bench {n}", "created_at": at}
                for n, i in enumerate(investors)
            ],
        )
        bulk(
            session,
            BankAccount,
            [
                {
                    "id": b,
                    "investor_id": i,
                    "currency": "EUR",
                    "iban": "FR1420041010050500013M02606",
                    "bic": "DEUTDEFFXXX",
                    "created_at": at,
                }
                for i, b in banks.items()
            ],
        )
        bulk(
            session,
            Account,
            [
                {
                    "id": a,
                    "investor_id": owner[a],
                    "share_class_id": share_class_id,
                    "type": "internal",
                    "network": "ethereum",
                    "blockchain_address": "0x" + a.replace("-", "")[:40],
                    "virtual_iban": f"FR76{n:023d}",
                    "created_at": at,
                }
                for n, a in enumerate(accounts)
            ],
        )
        deposits, movements = [], []
        for n, account in enumerate(accounts):
            amount = Decimal(1000 + n % 5000)
            shares = (amount / NAV_MONDAY).quantize(Decimal("0.00001"), rounding=ROUND_DOWN)
            order_id = str(uuid.uuid4())
            deposits.append(
                {
                    "id": order_id,
                    "investor_id": owner[account],
                    "account_id": account,
                    "share_class_id": share_class_id,
                    "method": "wire",
                    "amount": amount,
                    "currency": "EUR",
                    "wire_reference": f"SPKB{n:011d}",
                    "status": "executed",
                    "created_at": at,
                    "created_day": MONDAY,
                    "trade_day": MONDAY,
                    "funded_at": at,
                    "funded_day": MONDAY,
                    "executed_at": at,
                    "execution_day": MONDAY,
                    "shares": shares,
                    "nav": NAV_MONDAY,
                }
            )
            movements.append(
                {
                    "id": str(uuid.uuid4()),
                    "investor_id": owner[account],
                    "account_id": account,
                    "share_class_id": share_class_id,
                    "kind": "subscription",
                    "order_id": order_id,
                    "day": MONDAY,
                    "executed_at": at,
                    "shares": shares,
                    "amount": amount,
                    "nav": NAV_MONDAY,
                    "currency": "EUR",
                    "created_at": at,
                }
            )
        bulk(session, DepositOrder, deposits)
        if session.get_bind().dialect.name == "postgresql":
            # As the close does: no per-account advisory lock in the ledger trigger for a bulk load.
            session.execute(text("SET LOCAL spiko.bulk_movements = 'on'"))
        bulk(session, ShareMovement, movements)
    for symbol in ("USTBL", "UKTBL"):  # the other funds close too: give them their NAVs
        with ctx.transaction() as session:
            other = reference.get_share_class_by_symbol(session, symbol)
            reference.publish_nav(session, other.id, MONDAY, Decimal("1.000000"))
    return {
        "share_class_id": share_class_id,
        "accounts": accounts,
        "owner": owner,
        "banks": banks,
        "shares": {m["account_id"]: m["shares"] for m in movements},
    }


def put_orders(ctx: AppContext, world: dict[str, Any], count: int) -> None:
    """Tuesday's orders: half funded deposits, half withdrawals of a tenth of the shares."""
    at = datetime.combine(TUESDAY, dtime(9), tzinfo=UTC)
    deposits, withdrawals = [], []
    for n, account in enumerate(world["accounts"][:count]):
        investor = world["owner"][account]
        common = {
            "id": str(uuid.uuid4()),
            "investor_id": investor,
            "account_id": account,
            "share_class_id": world["share_class_id"],
            "currency": "EUR",
            "status": "pending",
            "created_at": at + timedelta(microseconds=n),
            "created_day": TUESDAY,
            "trade_day": TUESDAY,
        }
        if n % 2 == 0:
            deposits.append(
                {
                    **common,
                    "method": "wire",
                    "amount": Decimal("500.00"),
                    "wire_reference": f"SPKT{n:011d}",
                    "funded_at": at,
                    "funded_day": TUESDAY,
                }
            )
        else:
            shares = (world["shares"][account] / 10).quantize(Decimal("0.00001"), rounding=ROUND_DOWN)
            withdrawals.append(
                {
                    **common,
                    "bank_account_id": world["banks"][investor],
                    "destination_type": "bank-transfer",
                    "origin": "withdrawal",
                    "quantity_mode": "shares",
                    "requested_shares": shares,
                    "reserved_shares": shares,
                }
            )
    with ctx.transaction() as session:
        bulk(session, DepositOrder, deposits)
        bulk(session, WithdrawalOrder, withdrawals)


def server_cpu(session: Any) -> Any:
    """A reader of the CPU seconds used so far by the PostgreSQL backend serving ``session``
    (from /proc; 0 on SQLite, whose work is in this process, or when /proc is not readable)."""
    if session.get_bind().dialect.name != "postgresql":
        return lambda: 0.0
    pid = session.scalar(select(func.pg_backend_pid()))
    ticks = os.sysconf("SC_CLK_TCK")

    def read() -> float:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rpartition(")")[2].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime

    return read


def read_history(ctx: AppContext, account_id: str, share_class_id: str) -> float:
    started = time.perf_counter()
    with ctx.transaction(write=False) as session:
        share_class = reference.get_share_class(session, share_class_id)
        store.account_positions(session, account_id, share_class, TUESDAY - timedelta(days=30), TUESDAY)
    return (time.perf_counter() - started) * 1000


def settle(ctx: AppContext) -> None:
    """What the day between two closes gives a PostgreSQL database: autovacuum's VACUUM ANALYZE of
    the tables the bulk load and the first close filled (statistics, visibility map, hint bits)."""
    if ctx.engine.dialect.name != "postgresql":
        return
    with ctx.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")


@contextmanager
def copy_of(url: str, number: int) -> Iterator[str]:
    """A copy of the database at ``url`` (closed: no connection to it is open), dropped after use."""
    if url.startswith("sqlite:///"):
        source = url.removeprefix("sqlite:///")
        target = f"{source}.{number}"
        shutil.copyfile(source, target)
        try:
            yield f"sqlite:///{target}"
        finally:
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(target + suffix)
        return
    import psycopg

    base, _, source = url.rpartition("/")
    name = f"{source}_{number}"
    admin_url = os.environ.get("SPIKO_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def close_tuesday(ctx: AppContext) -> tuple[float, float, Any]:
    """Close Tuesday; returns the wall and CPU seconds it took, and its summary."""
    started, cpu_started = time.perf_counter(), time.process_time()
    with ctx.transaction() as session:
        server = server_cpu(session)
        server_started = server()
        summary = close.close_day(session, TUESDAY)
    seconds = time.perf_counter() - started
    return seconds, time.process_time() - cpu_started + server() - server_started, summary


def run(kind: str, size: int, *, vacuum: bool = True, repeat: int = 3) -> dict[str, Any]:
    with database(kind) as url:
        upgrade(url)
        ctx = AppContext(Settings(database_url=url, issuer="http://bench", secret_key=SECRET))
        started = time.perf_counter()
        world = populate(ctx, size)
        build = time.perf_counter() - started
        started = time.perf_counter()
        with ctx.transaction() as session:
            close.close_day(session, MONDAY)
        first_close = time.perf_counter() - started
        if vacuum:
            settle(ctx)
        orders = size // 10
        put_orders(ctx, world, orders)
        with ctx.transaction() as session:
            clock.set_today(session, TUESDAY, dtime(17))
            for share_class in reference.list_share_classes(session):
                value = NAV_TUESDAY if share_class.id == world["share_class_id"] else Decimal("1.000100")
                reference.publish_nav(session, share_class.id, TUESDAY, value)
        ctx.engine.dispose()
        rounds = []
        for number in range(repeat):
            with copy_of(url, number) as copy_url:
                ctx = AppContext(Settings(database_url=copy_url, issuer="http://bench", secret_key=SECRET))
                rounds.append(close_tuesday(ctx))
                if number < repeat - 1:
                    ctx.engine.dispose()
                    continue
                summary = rounds[-1][2]
                eutbl = next(f for f in summary.funds if f.fund == "EUTBL")
                # Warms the pool, not the accounts read below.
                read_history(ctx, world["accounts"][0], world["share_class_id"])
                # Alternating rounds: the first read of an account not read since the close, then
                # a later read of the same account; the medians of 20 rounds each, over ten
                # accounts that had an order that day and ten that did not.
                first_reads, later = [], []
                for account in world["accounts"][1:11] + world["accounts"][-10:]:
                    first_reads.append(read_history(ctx, account, world["share_class_id"]))
                    later.append(read_history(ctx, account, world["share_class_id"]))
                with ctx.transaction(write=False) as session:
                    stored = session.scalar(
                        select(func.count()).select_from(DailyPosition).where(DailyPosition.day == TUESDAY)
                    )
                ctx.engine.dispose()
        close_seconds = statistics.median(seconds for seconds, _, _ in rounds)
        close_cpu = statistics.median(cpu for _, cpu, _ in rounds)
        ctx.engine.dispose()
        return {
            "kind": kind,
            "accounts": size,
            "orders": orders,
            "build_s": build,
            "first_close_s": first_close,
            "close_s": close_seconds,
            "close_cpu_s": close_cpu,
            "executed": eutbl.deposits_executed + eutbl.withdrawals_executed,
            "positions": stored,
            "first_read_ms": statistics.median(first_reads),
            "later_read_ms": statistics.median(later),
        }


def main() -> None:
    import logging

    logging.disable(logging.INFO)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="accounts per run, comma-separated")
    parser.add_argument(
        "--repeat", type=int, default=3, help="closes of Tuesday, each on a copy of the database (median)"
    )
    parser.add_argument(
        "--no-vacuum",
        action="store_true",
        help="close Tuesday right after the bulk load, without the VACUUM ANALYZE of a day between",
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--sqlite-only", action="store_true")
    group.add_argument("--postgres-only", action="store_true")
    args = parser.parse_args()
    kinds = (
        ["sqlite"] if args.sqlite_only else ["postgresql"] if args.postgres_only else ["postgresql", "sqlite"]
    )
    sizes = [int(size) for size in args.sizes.split(",")]
    print(f"load average before: {os.getloadavg()}")
    for kind in kinds:
        results = []
        for size in sizes:
            result = run(kind, size, vacuum=not args.no_vacuum, repeat=max(1, args.repeat))
            results.append(result)
            print(
                f"{kind}: {result['accounts']} accounts, {result['orders']} orders: "
                f"close {result['close_s']:.2f} s (median; CPU {result['close_cpu_s']:.2f} s{CPU_OF[kind]}) "
                f"({result['executed']} executed, {result['positions']} positions booked); first close "
                f"{result['first_close_s']:.2f} s; built in {result['build_s']:.1f} s; read after close "
                f"{result['first_read_ms']:.2f} ms, later {result['later_read_ms']:.2f} ms, ratio "
                f"{result['first_read_ms'] / result['later_read_ms']:.2f}; load {os.getloadavg()[0]:.2f}"
            )
            sys.stdout.flush()
        if len(results) > 1:
            print(
                f"{kind}: scaling {results[0]['accounts']} -> {results[-1]['accounts']} accounts: "
                f"{results[-1]['close_s'] / results[0]['close_s']:.2f}x the time, "
                f"{results[-1]['close_cpu_s'] / results[0]['close_cpu_s']:.2f}x the CPU"
            )


if __name__ == "__main__":
    main()
