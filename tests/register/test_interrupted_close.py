"""A close killed midway (SIGKILL, a real ``spiko close-day`` process) leaves the day open with
nothing of it written, and the next ``spiko close-day`` closes it as an uninterrupted one would.

The register: accounts holding EUTBL since Monday (closed), and Tuesday's orders (funded deposits,
then withdrawals by shares). "Midway" is observed from outside the process, never by a hook in it:

* PostgreSQL: the test holds the row lock of an account with a withdrawal to execute; the close
  executes Tuesday's deposits (ledger rows written, uncommitted: ``pg_locks`` shows its row-exclusive
  lock on ``share_movements``), then waits for that lock (``pg_stat_activity``), and is killed there.
* SQLite: on a register large enough for the close to take a second or more, the close holds the
  write lock (another ``BEGIN IMMEDIATE`` is refused) and has spent CPU time in it
  (``/proc/PID/stat``); it is then frozen (SIGSTOP), seen still holding the lock (so its
  transaction has not committed), and killed.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime
from datetime import time as dtime
from decimal import ROUND_DOWN, Decimal
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy import text as sql

from spiko.db.models.audit import AuditRecord
from spiko.db.models.identity import Investor
from spiko.db.models.ledger import ShareMovement
from spiko.db.models.orders import Account, BankAccount, DepositOrder, WithdrawalOrder
from spiko.db.models.register import FundClose
from spiko.db.models.reporting import DailyPosition
from spiko.services import clock, close, reconcile, reference, seed
from spiko.services.reporting import positions as store
from tests.conftest import TEST_SECRET_KEY, run_cli

MONDAY = date(2025, 3, 3)
TUESDAY = date(2025, 3, 4)
NAV_MONDAY = Decimal("1.045300")


def _populate(ctx: Any, size: int) -> dict[str, Any]:
    """``size`` accounts holding EUTBL bought on Monday; Monday closed; on Tuesday a funded deposit
    on every tenth account and a withdrawal of a tenth of the shares on every tenth other one, and
    every share class's NAV; the clock on Tuesday evening."""
    at = datetime.combine(MONDAY, dtime(8), tzinfo=UTC)
    with ctx.transaction() as session:
        clock.set_today(session, MONDAY, dtime(8))
        share_class_id = seed.seed_reference_data(session, until_year=2026)["EUTBL"].id
        reference.publish_nav(session, share_class_id, MONDAY, NAV_MONDAY)
        for symbol in ("USTBL", "UKTBL"):
            reference.publish_nav(
                session, reference.get_share_class_by_symbol(session, symbol).id, MONDAY, Decimal(1)
            )
    investor, bank = str(uuid.uuid4()), str(uuid.uuid4())
    accounts = [str(uuid.uuid4()) for _ in range(size)]
    shares: dict[str, Decimal] = {}
    with ctx.transaction() as session:
        session.execute(
            insert(Investor), [{"id": investor, "type": "organization", "name": "Kill SAS", "created_at": at}]
        )
        session.execute(
            insert(BankAccount),
            [{"id": bank, "investor_id": investor, "currency": "EUR", "iban": "FR1420041010050500013M02606",
              "bic": "DEUTDEFFXXX", "created_at": at}],
        )  # fmt: skip
        session.execute(
            insert(Account),
            [{"id": a, "investor_id": investor, "share_class_id": share_class_id, "type": "internal",
              "network": "ethereum", "blockchain_address": "0x" + a.replace("-", "")[:40],
              "virtual_iban": f"FR76{n:023d}", "created_at": at} for n, a in enumerate(accounts)],
        )  # fmt: skip
        deposits, movements = [], []
        for n, account in enumerate(accounts):
            amount = Decimal(1000 + n % 5000)
            shares[account] = (amount / NAV_MONDAY).quantize(Decimal("0.00001"), rounding=ROUND_DOWN)
            order_id = str(uuid.uuid4())
            common = {"investor_id": investor, "account_id": account, "share_class_id": share_class_id}
            deposits.append(
                {"id": order_id, **common, "method": "wire", "amount": amount, "currency": "EUR",
                 "wire_reference": f"SPKK{n:011d}", "status": "executed", "created_at": at,
                 "created_day": MONDAY, "trade_day": MONDAY, "funded_at": at, "funded_day": MONDAY,
                 "executed_at": at, "execution_day": MONDAY, "shares": shares[account], "nav": NAV_MONDAY}
            )  # fmt: skip
            movements.append(
                {"id": str(uuid.uuid4()), **common, "kind": "subscription", "order_id": order_id,
                 "day": MONDAY, "executed_at": at, "shares": shares[account], "amount": amount,
                 "nav": NAV_MONDAY, "currency": "EUR", "created_at": at}
            )  # fmt: skip
        session.execute(insert(DepositOrder), deposits)
        if session.get_bind().dialect.name == "postgresql":
            session.execute(sql("SET LOCAL spiko.bulk_movements = 'on'"))
        session.execute(insert(ShareMovement), movements)
    with ctx.transaction() as session:
        close.close_day(session, MONDAY)
    tuesday = datetime.combine(TUESDAY, dtime(9), tzinfo=UTC)
    deposits, withdrawals = [], []
    for n, account in enumerate(accounts):
        common = {"id": str(uuid.uuid4()), "investor_id": investor, "account_id": account,
                  "share_class_id": share_class_id, "currency": "EUR", "status": "pending",
                  "created_at": tuesday, "created_day": TUESDAY, "trade_day": TUESDAY}  # fmt: skip
        if n % 10 == 0:
            deposits.append({**common, "method": "wire", "amount": Decimal("500.00"),
                             "wire_reference": f"SPKT{n:011d}", "funded_at": tuesday,
                             "funded_day": TUESDAY})  # fmt: skip
        elif n % 10 == 5:
            tenth = (shares[account] / 10).quantize(Decimal("0.00001"), rounding=ROUND_DOWN)
            withdrawals.append({**common, "bank_account_id": bank, "destination_type": "bank-transfer",
                                "origin": "withdrawal", "quantity_mode": "shares", "requested_shares": tenth,
                                "reserved_shares": tenth})  # fmt: skip
    with ctx.transaction() as session:
        session.execute(insert(DepositOrder), deposits)
        session.execute(insert(WithdrawalOrder), withdrawals)
        clock.set_today(session, TUESDAY, dtime(18))
        for symbol, value in (("EUTBL", "1.045400"), ("USTBL", "1.000100"), ("UKTBL", "1.000100")):
            reference.publish_nav(
                session, reference.get_share_class_by_symbol(session, symbol).id, TUESDAY, Decimal(value)
            )
    return {"accounts": accounts, "deposits": len(deposits), "withdrawals": len(withdrawals),
            "locked": withdrawals[0]["account_id"], "share_class_id": share_class_id}  # fmt: skip


def _start_close(database_url: str, tmp_path: Any) -> subprocess.Popen[str]:
    env = {**os.environ, "SPIKO_DATABASE_URL": database_url, "SPIKO_SECRET_KEY": TEST_SECRET_KEY}
    return subprocess.Popen(
        [sys.executable, "-m", "spiko.cli", "close-day"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait(condition: Any, what: str, process: subprocess.Popen[str], limit: float = 240) -> Any:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        assert process.poll() is None, f"the close ended before {what}: {process.communicate()}"
        time.sleep(0.02)
    raise AssertionError(f"gave up waiting for {what}")


def _kill_midway_postgresql(database_url: str, tmp_path: Any, locked_account: str) -> None:
    import psycopg

    dsn = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as holder, psycopg.connect(dsn, autocommit=True) as watcher:
        holder.execute("SELECT id FROM accounts WHERE id = %s FOR UPDATE", (locked_account,))
        process = _start_close(database_url, tmp_path)
        mine = holder.info.backend_pid
        waiting = """
            SELECT a.pid FROM pg_stat_activity a
            JOIN pg_locks l ON l.pid = a.pid
            JOIN pg_class c ON c.oid = l.relation
            WHERE a.datname = current_database() AND a.pid NOT IN (%s, pg_backend_pid())
              AND a.wait_event_type = 'Lock'
              AND c.relname = 'share_movements' AND l.mode = 'RowExclusiveLock' AND l.granted
        """
        # The close has written Tuesday's deposits to the ledger and waits for the account's lock.
        backend = _wait(lambda: watcher.execute(waiting, (mine,)).fetchone(), "it wrote and waited", process)[
            0
        ]
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=60) == -signal.SIGKILL
        holder.rollback()
        # Its server process notices the client is gone and rolls the transaction back.
        alive = "SELECT 1 FROM pg_stat_activity WHERE pid = %s"
        deadline = time.monotonic() + 60
        while watcher.execute(alive, (backend,)).fetchone() and time.monotonic() < deadline:
            time.sleep(0.05)


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _kill_midway_sqlite(database_url: str, tmp_path: Any) -> None:
    path = database_url.removeprefix("sqlite:///")
    probe = sqlite3.connect(path, timeout=0, isolation_level=None)

    def writing() -> bool:
        try:
            probe.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            return "locked" in str(error)
        probe.execute("ROLLBACK")
        return False

    try:
        process = _start_close(database_url, tmp_path)
        _wait(writing, "it took the write lock", process)
        started = _cpu_seconds(process.pid)
        _wait(lambda: _cpu_seconds(process.pid) - started >= 0.2, "it worked a while", process)
        # Frozen, it still holds the write lock: its transaction has not committed, and is killed so.
        process.send_signal(signal.SIGSTOP)
        assert writing(), "the close committed before it could be stopped"
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=60) == -signal.SIGKILL
    finally:
        probe.close()


def _tuesday(ctx: Any) -> dict[str, int]:
    """What of Tuesday's close is in the database."""
    with ctx.transaction(write=False) as session:
        count = lambda model, *where: session.scalar(select(func.count()).select_from(model).where(*where))  # noqa: E731
        return {
            "closes": count(FundClose, FundClose.day == TUESDAY),
            "positions": count(DailyPosition, DailyPosition.day == TUESDAY),
            "movements": count(ShareMovement, ShareMovement.day == TUESDAY),
            "executed": count(
                DepositOrder, DepositOrder.trade_day == TUESDAY, DepositOrder.status == "executed"
            )
            + count(
                WithdrawalOrder, WithdrawalOrder.trade_day == TUESDAY, WithdrawalOrder.status == "executed"
            ),
            "audited": count(AuditRecord, AuditRecord.action == "day.close"),
        }


def test_a_close_killed_midway_leaves_the_day_open_and_runs_again_cleanly(ctx, database_url, tmp_path):
    postgres = ctx.engine.dialect.name == "postgresql"
    world = _populate(ctx, 200 if postgres else 6000)
    assert _tuesday(ctx) == {"closes": 0, "positions": 0, "movements": 0, "executed": 0, "audited": 0}
    if postgres:
        _kill_midway_postgresql(database_url, tmp_path, world["locked"])
    else:
        _kill_midway_sqlite(database_url, tmp_path)

    # Nothing of the killed close was kept: the day is open, no order executed, no row written.
    assert _tuesday(ctx) == {"closes": 0, "positions": 0, "movements": 0, "executed": 0, "audited": 0}
    with ctx.transaction(write=False) as session:
        assert reconcile.require_balanced(session, TUESDAY)

    done = run_cli(database_url, "close-day", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    eutbl = next(fund for fund in done.json()["funds"] if fund["fund"] == "EUTBL")
    assert eutbl["status"] == "closed"
    assert (eutbl["depositsExecuted"], eutbl["withdrawalsExecuted"]) == (
        world["deposits"],
        world["withdrawals"],
    )
    assert eutbl["positionsBooked"] == len(world["accounts"])
    assert all(result["balanced"] for result in eutbl["reconciliation"])
    orders = world["deposits"] + world["withdrawals"]
    after = _tuesday(ctx)
    assert after == {
        "closes": 3,
        "positions": len(world["accounts"]),
        "movements": orders,
        "executed": orders,
        "audited": after["audited"],
    }
    # What it booked is what an uninterrupted close books: every stored position of Tuesday is the
    # account's ledger rolled forward from its first movement.
    columns = [attr.key for attr in DailyPosition.__mapper__.column_attrs]
    with ctx.transaction() as session:
        share_class = reference.get_share_class(session, world["share_class_id"])
        for account in world["accounts"][:12]:  # deposits, withdrawals and accounts that only earned
            query = select(DailyPosition).where(DailyPosition.account_id == account)
            booked = {row.day: {c: getattr(row, c) for c in columns} for row in session.scalars(query)}
            store.invalidate(session, account, share_class.id, MONDAY)
            store.materialize(session, account, share_class, through=TUESDAY)
            rolled = {row.day: {c: getattr(row, c) for c in columns} for row in session.scalars(query)}
            assert booked == rolled and TUESDAY in booked
        session.rollback()
    again = run_cli(database_url, "close-day", cwd=tmp_path)
    assert again.returncode == 0 and {f["status"] for f in again.json()["funds"]} == {"alreadyClosed"}
