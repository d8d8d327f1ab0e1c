"""Reporting at scale: an account with 100,000 transactions against one with 1,000.

For each database (SQLite file, and PostgreSQL when reachable) the script builds two accounts
of one investor over two years of EUTBL NAVs by bulk-inserting executed orders and their share
ledger rows (deposits, withdrawals, transfers to a sibling account), so that together with their
daily yield accruals the big account has about 100,000 transactions and the small one about
1,000. It then times, in the same process and the same run, through the real ASGI app:

* the first page of ``GET /v1/account-transactions`` (limit 50, newest first),
* a 365-day ``GET /v1/accounting-positions/account-history``,

reporting the median of repeated calls after one warm-up call (the warm-up is the call that
materializes the daily positions; its time is reported too), the big/small ratio, and the
query plans (EXPLAIN) of every SQL statement the two routes issue on the big account.

    .venv/bin/python bench/reporting_bench.py [--sqlite-only] [--repeat 30] [--big 100000]
"""

from __future__ import annotations

import argparse
import base64
import gc
import os
import random
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

from sqlalchemy import event, insert

from spiko.app import create_app
from spiko.config import Settings
from spiko.context import AppContext
from spiko.db.migrate import upgrade
from spiko.db.models.funds import NetAssetValue
from spiko.db.models.ledger import ShareMovement
from spiko.db.models.orders import DepositOrder, TransferOrder, WithdrawalOrder
from spiko.services import accounts, bank_accounts, clock, identity, seed

FIRST_DAY = date(2024, 7, 1)
LAST_DAY = date(2026, 6, 30)
SECRET = "bench-secret-key-" + "x" * 32


def business_days() -> list[date]:
    days, day = [], FIRST_DAY
    while day <= LAST_DAY:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def nav_rows(share_class_id: str) -> tuple[list[dict[str, Any]], dict[date, Decimal]]:
    value, rows, navs = Decimal("1.000000"), [], {}
    now = datetime.now(UTC)
    for day in business_days():
        value = (value * Decimal("1.000095")).quantize(Decimal("0.000001"))
        navs[day] = value
        rows.append(
            {
                "id": str(uuid.uuid4()),
                "share_class_id": share_class_id,
                "day": day,
                "value": value,
                "created_at": now,
            }
        )
    return rows, navs


def build_orders(
    *,
    investor_id: str,
    account_id: str,
    sibling_id: str,
    share_class_id: str,
    bank_id: str,
    navs: dict[date, Decimal],
    orders: int,
    rng: random.Random,
    prefix: str,
) -> dict[str, list[dict[str, Any]]]:
    """Executed deposits, withdrawals and transfers out of ``account_id``, spread over the days."""
    days = sorted(navs)
    per_day = [0] * len(days)
    for _ in range(orders):
        per_day[rng.randrange(len(days))] += 1
    tables: dict[str, list[dict[str, Any]]] = {
        "deposits": [],
        "withdrawals": [],
        "transfers": [],
        "movements": [],
    }
    balance = Decimal(0)
    serial = 0
    for index, day in enumerate(days):
        nav = navs[day]
        for slot in range(per_day[index]):
            serial += 1
            created = datetime.combine(day, dtime(8), tzinfo=UTC) + timedelta(
                seconds=slot * 7, microseconds=serial
            )
            executed = datetime.combine(day, dtime(17), tzinfo=UTC)
            order_id = str(uuid.uuid4())
            roll = rng.random()
            if roll < 0.5 or balance < 100:
                amount = Decimal(rng.randint(100_000, 2_000_000)) / 100
                shares = (amount / nav).quantize(Decimal("0.00001"), rounding=ROUND_DOWN)
                tables["deposits"].append(
                    {
                        "id": order_id,
                        "investor_id": investor_id,
                        "account_id": account_id,
                        "share_class_id": share_class_id,
                        "method": "wire",
                        "amount": amount,
                        "currency": "EUR",
                        "wire_reference": f"{prefix}{serial:010d}",
                        "status": "executed",
                        "created_at": created,
                        "created_day": day,
                        "funded_at": created,
                        "funded_day": day,
                        "executed_at": executed,
                        "execution_day": day,
                        "shares": shares,
                        "nav": nav,
                    }
                )
                kind, signed = "subscription", shares
                balance += shares
            else:
                shares = (balance * Decimal(rng.uniform(0.01, 0.2))).quantize(
                    Decimal("0.00001"), rounding=ROUND_DOWN
                )
                amount = (shares * nav).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
                balance -= shares
                if roll < 0.8:
                    tables["withdrawals"].append(
                        {
                            "id": order_id,
                            "investor_id": investor_id,
                            "account_id": account_id,
                            "share_class_id": share_class_id,
                            "bank_account_id": bank_id,
                            "destination_type": "bank-transfer",
                            "origin": "withdrawal",
                            "quantity_mode": "shares",
                            "requested_shares": shares,
                            "currency": "EUR",
                            "reserved_shares": shares,
                            "status": "executed",
                            "created_at": created,
                            "created_day": day,
                            "executed_at": executed,
                            "execution_day": day,
                            "shares": shares,
                            "amount": amount,
                            "nav": nav,
                        }
                    )
                    kind, signed = "redemption", -shares
                else:
                    tables["transfers"].append(
                        {
                            "id": order_id,
                            "investor_id": investor_id,
                            "from_account_id": account_id,
                            "to_account_id": sibling_id,
                            "share_class_id": share_class_id,
                            "quantity_mode": "in-shares",
                            "shares": shares,
                            "amount": amount,
                            "currency": "EUR",
                            "nav": nav,
                            "nav_day": day,
                            "status": "executed",
                            "created_at": created,
                            "day": day,
                            "executed_at": executed,
                        }
                    )
                    kind, signed = "transfer_out", -shares
                    tables["movements"].append(
                        _movement(
                            investor_id,
                            sibling_id,
                            share_class_id,
                            "transfer_in",
                            order_id,
                            day,
                            executed,
                            shares,
                            amount,
                            nav,
                        )
                    )
            tables["movements"].append(
                _movement(
                    investor_id,
                    account_id,
                    share_class_id,
                    kind,
                    order_id,
                    day,
                    executed,
                    signed,
                    amount,
                    nav,
                )
            )
    return tables


def _movement(
    investor_id: str,
    account_id: str,
    share_class_id: str,
    kind: str,
    order_id: str,
    day: date,
    executed: datetime,
    shares: Decimal,
    amount: Decimal,
    nav: Decimal,
) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "investor_id": investor_id,
        "account_id": account_id,
        "share_class_id": share_class_id,
        "kind": kind,
        "order_id": order_id,
        "day": day,
        "executed_at": executed,
        "shares": shares,
        "amount": amount,
        "nav": nav,
        "currency": "EUR",
        "created_at": executed,
    }


def bulk(session: Any, model: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), 5000):
        session.execute(insert(model), rows[start : start + 5000])


@contextmanager
def database(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.db"
        return
    import psycopg

    name = f"spiko_bench_{uuid.uuid4().hex[:8]}"
    admin_url = os.environ.get("SPIKO_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    base = admin_url.rpartition("/")[0]
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def populate(ctx: AppContext, sizes: dict[str, int]) -> dict[str, Any]:
    rng = random.Random(5)
    with ctx.transaction() as session:
        clock.set_today(session, LAST_DAY)
        share_class = seed.seed_reference_data(session, until_year=2023)["EUTBL"]
        investor, _ = identity.create_investor(
            session, name="Bench Treasury SAS", email="bench@example.com", password="correct horse battery"
        )
        key = identity.create_api_key(
            session, ctx.api_keys, investor_id=investor.id, name="bench", max_live_keys=20
        )
        bank = bank_accounts.add_bank_account(
            session, investor_id=investor.id, iban="FR1420041010050500013M02606", bic="DEUTDEFFXXX"
        )
        rows, navs = nav_rows(share_class.id)
        bulk(session, NetAssetValue, rows)
        made = {}
        for label, orders in sizes.items():
            account = accounts.create_account(
                session, investor_id=investor.id, share_class_id=share_class.id, name=label
            )
            sibling = accounts.create_account(
                session, investor_id=investor.id, share_class_id=share_class.id, name=f"{label} sibling"
            )
            tables = build_orders(
                investor_id=investor.id,
                account_id=account.id,
                sibling_id=sibling.id,
                share_class_id=share_class.id,
                bank_id=bank.id,
                navs=navs,
                orders=orders,
                rng=rng,
                prefix=label[0].upper(),
            )
            bulk(session, DepositOrder, tables["deposits"])
            bulk(session, WithdrawalOrder, tables["withdrawals"])
            bulk(session, TransferOrder, tables["transfers"])
            bulk(session, ShareMovement, tables["movements"])
            made[label] = account.id
    if ctx.engine.dialect.name == "postgresql":
        with ctx.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    else:
        with ctx.engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
    auth = "Basic " + base64.b64encode(f"{key.client_id}:{key.client_secret}".encode()).decode()
    return {"accounts": made, "share_class_id": share_class.id, "auth": auth}


def timed(
    client: Any, urls: dict[str, str], headers: dict[str, str], repeat: int
) -> dict[str, dict[str, Any]]:
    """Time the same route on each account, alternating accounts call by call, so that both see
    the same machine (a shared, noisy one) and the same state of the process."""
    bodies = {}
    for label, url in urls.items():
        response = client.get(url, headers=headers)  # warm-up
        assert response.status_code == 200, response.text[:500]
        bodies[label] = response.json()
    samples: dict[str, list[float]] = {label: [] for label in urls}
    gc.collect()
    for _ in range(repeat):
        for label, url in urls.items():
            start = time.perf_counter()
            response = client.get(url, headers=headers)
            samples[label].append(time.perf_counter() - start)
            assert response.status_code == 200
    return {
        label: {
            "median_ms": statistics.median(values) * 1000,
            "p90_ms": sorted(values)[max(0, int(len(values) * 0.9) - 1)] * 1000,
            "items": len(bodies[label]["items"]) if isinstance(bodies[label], dict) else len(bodies[label]),
        }
        for label, values in samples.items()
    }


def explain(ctx: AppContext, statements: list[tuple[str, Any]]) -> list[str]:
    out = []
    seen = set()
    with ctx.engine.connect() as connection:
        for sql, params in statements:
            if sql in seen or not sql.lstrip().upper().startswith("SELECT"):
                continue
            seen.add(sql)
            prefix = (
                "EXPLAIN QUERY PLAN "
                if ctx.engine.dialect.name == "sqlite"
                else "EXPLAIN (ANALYZE, COSTS OFF) "
            )
            rows = connection.exec_driver_sql(prefix + sql, params).fetchall()
            plan = "\n".join(
                ("  " + str(row[-1])) if ctx.engine.dialect.name == "sqlite" else "  " + row[0]
                for row in rows
            )
            out.append(" ".join(sql.split())[:400] + "\n" + plan)
    return out


def run(kind: str, repeat: int, big: int, small: int) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    with database(kind) as url:
        upgrade(url)
        ctx = AppContext(Settings(database_url=url, issuer="http://bench", secret_key=SECRET))
        started = time.perf_counter()
        world = populate(ctx, {"big": big, "small": small})
        build_seconds = time.perf_counter() - started
        headers = {"Authorization": world["auth"]}
        app = create_app(ctx=ctx)
        results: dict[str, Any] = {"kind": kind, "build_seconds": build_seconds, "routes": {}, "plans": {}}
        with TestClient(app, base_url="http://bench") as client:
            sc = world["share_class_id"]
            first = (LAST_DAY - timedelta(days=364)).isoformat()
            routes = {
                "transactions first page": "/v1/account-transactions?accountId={account}",
                "365-day account history": (
                    f"/v1/accounting-positions/account-history?accountId={{account}}&shareClassId={sc}"
                    f"&from={first}&to={LAST_DAY.isoformat()}"
                ),
            }
            counts, materialize = {}, {}
            for label, account in world["accounts"].items():
                # The first read stores the account's daily positions (two years of days).
                start = time.perf_counter()
                assert (
                    client.get(
                        routes["365-day account history"].format(account=account), headers=headers
                    ).status_code
                    == 200
                )
                materialize[label] = (time.perf_counter() - start) * 1000
                # Transactions = orders + listed yield accruals, counted through the API itself.
                response = client.get(
                    f"/v1/account-transactions?accountId={account}&limit=10000", headers=headers
                )
                total, cursor = len(response.json()["items"]), response.json()["nextCursor"]
                while cursor:
                    page = client.get(
                        f"/v1/account-transactions?accountId={account}&limit=10000&cursor={cursor}",
                        headers=headers,
                    ).json()
                    total += len(page["items"])
                    cursor = page["nextCursor"]
                counts[label] = total
            results["transactions"] = counts
            results["materialize_ms"] = materialize
            url_sets = {
                route: {
                    label: template.format(account=account) for label, account in world["accounts"].items()
                }
                for route, template in routes.items()
            }
            # The second page goes through the keyset condition of the cursor.
            url_sets["transactions second page"] = {}
            for label, url in url_sets["transactions first page"].items():
                cursor = client.get(url, headers=headers).json()["nextCursor"]
                url_sets["transactions second page"][label] = f"{url}&cursor={cursor}"
            for route, urls in url_sets.items():
                results["routes"][route] = timed(client, urls, headers, repeat)
                captured: list[tuple[str, Any]] = []

                def capture(
                    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
                ) -> None:
                    captured.append((statement, parameters))  # noqa: B023 - removed before the next loop

                event.listen(ctx.engine, "before_cursor_execute", capture)
                client.get(urls["big"], headers=headers)
                event.remove(ctx.engine, "before_cursor_execute", capture)
                results["plans"][route] = explain(ctx, captured)
        ctx.close()
        return results


def main() -> None:
    import logging

    logging.disable(logging.INFO)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--big", type=int, default=99_500)
    parser.add_argument("--small", type=int, default=500)
    args = parser.parse_args()
    kinds = ["sqlite"] if args.sqlite_only else ["sqlite", "postgresql"]
    for kind in kinds:
        result = run(kind, args.repeat, args.big, args.small)
        print(f"\n## {kind}  (built in {result['build_seconds']:.1f} s)")
        print(f"transactions: big {result['transactions']['big']}, small {result['transactions']['small']}")
        for route, by_size in result["routes"].items():
            big, small = by_size["big"], by_size["small"]
            print(
                f"{route}: small {small['median_ms']:.2f} ms (p90 {small['p90_ms']:.2f}), "
                f"big {big['median_ms']:.2f} ms (p90 {big['p90_ms']:.2f}), ratio big/small "
                f"{big['median_ms'] / small['median_ms']:.2f}"
            )
        print(
            f"first read (stores the daily positions): small {result['materialize_ms']['small']:.0f} ms, "
            f"big {result['materialize_ms']['big']:.0f} ms"
        )
        for route, plans in result["plans"].items():
            print(f"\n### query plans, {route}, big account ({kind})")
            for plan in plans:
                print(plan)
        sys.stdout.flush()


if __name__ == "__main__":
    main()
