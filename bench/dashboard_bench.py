"""The investor app's dashboard for an investor with 10 accounts and two years of history.

For each database (a SQLite file, and PostgreSQL when reachable) the script builds two investors
over two years of EUTBL NAVs, each with 10 accounts, by bulk-inserting executed orders and
their ledger rows (as ``reporting_bench.py`` does): a *light* one (``--light`` orders in all)
and a *heavy* one (``--heavy`` orders in all). It signs both in through the login form and
times ``GET /`` (the dashboard, server-side rendering included, default 3-month charts) in the
same process, alternating investors call by call, after one warm-up call each (the warm-up
stores the daily positions; its time is reported too). It prints the medians, p90, the
heavy/light ratio (the cost should not grow with the number of transactions), the 1-year and
2-year chart variants and the load average before and after.

    .venv/bin/python bench/dashboard_bench.py [--sqlite-only] [--repeat 30] [--light 500] [--heavy 50000]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import re
import statistics
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from reporting_bench import (  # noqa: E402 - the same bulk builders as the reporting benchmark
    LAST_DAY,
    SECRET,
    build_orders,
    bulk,
    database,
    nav_rows,
)

from spiko.app import create_app  # noqa: E402
from spiko.config import Settings  # noqa: E402
from spiko.context import AppContext  # noqa: E402
from spiko.db.migrate import upgrade  # noqa: E402
from spiko.db.models.funds import NetAssetValue  # noqa: E402
from spiko.db.models.ledger import ShareMovement  # noqa: E402
from spiko.db.models.orders import DepositOrder, TransferOrder, WithdrawalOrder  # noqa: E402
from spiko.services import accounts, bank_accounts, clock, identity, seed  # noqa: E402

ACCOUNTS = 10
PASSWORD = "correct horse battery"


def populate(ctx: AppContext, sizes: dict[str, int]) -> dict[str, str]:
    """Two investors of ``ACCOUNTS`` accounts each; returns label -> sign-in email."""
    rng = random.Random(7)
    emails = {}
    with ctx.transaction() as session:
        clock.set_today(session, LAST_DAY)
        share_class = seed.seed_reference_data(session, until_year=2023)["EUTBL"]
        rows, navs = nav_rows(share_class.id)
        bulk(session, NetAssetValue, rows)
        for label, orders in sizes.items():
            email = f"{label}@bench.example"
            investor, _ = identity.create_investor(
                session, name=f"{label.title()} Treasury SAS", email=email, password=PASSWORD
            )
            bank = bank_accounts.add_bank_account(
                session, investor_id=investor.id, iban="FR1420041010050500013M02606", bic="DEUTDEFFXXX"
            )
            made = [
                accounts.create_account(
                    session, investor_id=investor.id, share_class_id=share_class.id, name=f"Account {n + 1}"
                ).id
                for n in range(ACCOUNTS)
            ]
            for index, account_id in enumerate(made):
                tables = build_orders(
                    investor_id=investor.id,
                    account_id=account_id,
                    sibling_id=made[(index + 1) % ACCOUNTS],
                    share_class_id=share_class.id,
                    bank_id=bank.id,
                    navs=navs,
                    orders=orders // ACCOUNTS,
                    rng=rng,
                    prefix=f"{label[0].upper()}{index}",
                )
                bulk(session, DepositOrder, tables["deposits"])
                bulk(session, WithdrawalOrder, tables["withdrawals"])
                bulk(session, TransferOrder, tables["transfers"])
                bulk(session, ShareMovement, tables["movements"])
            emails[label] = email
    if ctx.engine.dialect.name == "postgresql":
        with ctx.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    else:
        with ctx.engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
    return emails


def sign_in(client: Any, email: str) -> None:
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    response = client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[:300]


def timed(clients: dict[str, Any], path: str, repeat: int) -> dict[str, dict[str, float]]:
    """Median and p90 of ``GET path`` per investor, alternating investors call by call."""
    samples: dict[str, list[float]] = {label: [] for label in clients}
    cpu: dict[str, list[float]] = {label: [] for label in clients}
    gc.collect()
    for _ in range(repeat):
        for label, client in clients.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            response = client.get(path)
            samples[label].append(time.perf_counter() - start)
            # CPU time of this process (the app runs in a thread of it): what a busy machine
            # changes least, next to the wall-clock time it inflates.
            cpu[label].append(time.process_time() - start_cpu)
            assert response.status_code == 200, response.text[:300]
    return {
        label: {
            "median_ms": round(statistics.median(values) * 1000, 1),
            "p90_ms": round(sorted(values)[max(0, int(len(values) * 0.9) - 1)] * 1000, 1),
            "cpu_median_ms": round(statistics.median(cpu[label]) * 1000, 1),
        }
        for label, values in samples.items()
    }


def run(kind: str, repeat: int, light: int, heavy: int) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    with database(kind) as url:
        upgrade(url)
        ctx = AppContext(Settings(database_url=url, issuer="http://bench", secret_key=SECRET))
        started = time.perf_counter()
        emails = populate(ctx, {"light": light, "heavy": heavy})
        result: dict[str, Any] = {
            "database": kind,
            "build_seconds": round(time.perf_counter() - started, 1),
            "orders": {"light": light, "heavy": heavy},
            "load_before": os.getloadavg(),
        }
        app = create_app(ctx=ctx)
        clients = {label: TestClient(app, base_url="http://bench") for label in emails}
        try:
            for label, client in clients.items():
                client.__enter__()
                sign_in(client, emails[label])
            first = {}
            for label, client in clients.items():
                start = time.perf_counter()
                assert client.get("/").status_code == 200
                first[label] = round((time.perf_counter() - start) * 1000, 1)
            result["first_render_ms (stores the daily positions)"] = first
            result["dashboard 3 months"] = timed(clients, "/", repeat)
            result["dashboard 1 year"] = timed(clients, "/?period=1y", max(5, repeat // 3))
            result["dashboard 2 years"] = timed(clients, "/?period=2y", max(5, repeat // 3))
            for name in ("dashboard 3 months", "dashboard 1 year", "dashboard 2 years"):
                figures = result[name]
                figures["heavy/light"] = round(
                    figures["heavy"]["median_ms"] / figures["light"]["median_ms"], 2
                )
        finally:
            for client in clients.values():
                client.__exit__(None, None, None)
            ctx.close()
        result["load_after"] = os.getloadavg()
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--light", type=int, default=500)
    parser.add_argument("--heavy", type=int, default=50_000)
    options = parser.parse_args()
    kinds = ["sqlite"] if options.sqlite_only else ["sqlite", "postgresql"]
    for kind in kinds:
        print(json.dumps(run(kind, options.repeat, options.light, options.heavy), indent=2), flush=True)


if __name__ == "__main__":
    main()
