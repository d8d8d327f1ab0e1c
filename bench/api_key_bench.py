"""API-key-authenticated ``GET /v1/investors/me`` against a bare endpoint of the same framework.

Starts ``spiko serve --workers N`` on a fresh database (SQLite, PostgreSQL or both) and, beside
it, a FastAPI app served by uvicorn with the same number of workers whose only route returns
the same JSON body without authentication or database. wrk (loopback, fixed duration, a Lua
script adding the Authorization header) loads each in alternating rounds of the same run, and
the ratio of their throughputs is reported per round and as a median. Then the load continues
until the Spiko server has answered ``--memory-requests`` requests, and the resident memory of
each worker process is read from /proc.

    .venv/bin/python bench/api_key_bench.py --database both

Only talks to 127.0.0.1; every server it starts is stopped at the end.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

PYTHON = sys.executable
BARE_APP = """
import json
from fastapi import FastAPI

app = FastAPI()
BODY = json.loads({body!r})


@app.get("/v1/investors/me")
async def me():
    return BODY
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"server did not start:\n{log.read_text(errors='replace')[-3000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def worker_pids(parent: int) -> list[int]:
    """uvicorn's worker processes: children of ``parent`` started by multiprocessing's spawn.

    Other children (multiprocessing's resource tracker) are left out.
    """
    children = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and b"spawn_main" in cmdline:
            children.append(int(entry))
    return sorted(children)


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of the processes, from /proc/<pid>/stat."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


@dataclass
class WrkResult:
    requests_per_second: float
    requests: int
    non_2xx: int
    errors: int
    latency_p50_ms: float
    latency_p99_ms: float


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", value)
    if match is None:
        return float("nan")
    number, unit = match.groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}[unit]


def wrk(url: str, *, duration: int, connections: int, threads: int, script: Path | None) -> WrkResult:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "5s"]
    if script is not None:
        command += ["-s", str(script)]
    output = subprocess.run(
        [*command, url], capture_output=True, text=True, timeout=duration + 60, check=True
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)\s*$", output, flags=re.M).group(1)  # type: ignore[union-attr]
    p99 = re.search(r"^\s+99%\s+(\S+)\s*$", output, flags=re.M).group(1)  # type: ignore[union-attr]
    return WrkResult(
        rps,
        total,
        int(non_2xx.group(1)) if non_2xx else 0,
        sum(int(n) for n in errors.groups()) if errors else 0,
        _ms(p50),
        _ms(p99),
    )


@contextmanager
def fresh_database(kind: str, workdir: Path, postgres_url: str) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    import psycopg

    name = f"spiko_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_url.rpartition("/")[0] + "/" + name  # a plain postgresql:// URL
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Report:
    database: str
    workers: int
    rounds: list[dict[str, Any]] = field(default_factory=list)
    median_ratio: float = 0.0
    median_cpu_ratio: float = 0.0
    spiko_rps_median: float = 0.0
    bare_rps_median: float = 0.0
    requests_served: int = 0
    worker_rss_mb: list[float] = field(default_factory=list)
    worker_rss_before_mb: list[float] = field(default_factory=list)


def run_one(kind: str, args: argparse.Namespace) -> Report:
    workdir = Path(tempfile.mkdtemp(prefix=f"spiko-bench-{kind}-"))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        with fresh_database(kind, workdir, args.postgres_url) as database_url:
            env = {
                **os.environ,
                "SPIKO_DATABASE_URL": database_url,
                "SPIKO_SECRET_KEY": secrets.token_urlsafe(48),
            }

            def cli(*command: str) -> Any:
                done = subprocess.run(
                    [PYTHON, "-m", "spiko.cli", *command],
                    env=env,
                    cwd=workdir,
                    capture_output=True,
                    text=True,
                    timeout=120,
                )
                if done.returncode != 0:
                    raise RuntimeError(done.stderr)
                return json.loads(done.stdout) if done.stdout.strip() else None

            cli("db", "upgrade")
            email = "bench@example.com"
            cli(
                "investors",
                "create",
                "--name",
                "Bench Treasury SAS",
                "--email",
                email,
                "--password",
                "bench-password",
            )
            key = cli("api-keys", "create", "--email", email, "--name", "bench")

            spiko_port, bare_port = free_port(), free_port()
            spiko_log = workdir / "spiko.log"
            with open(spiko_log, "wb") as log:
                spiko = subprocess.Popen(
                    [
                        PYTHON,
                        "-m",
                        "spiko.cli",
                        "serve",
                        "--port",
                        str(spiko_port),
                        "--workers",
                        str(args.workers),
                    ],
                    env={**env, "SPIKO_ISSUER": f"http://127.0.0.1:{spiko_port}"},
                    cwd=workdir,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            processes.append(spiko)
            spiko_url = f"http://127.0.0.1:{spiko_port}"
            wait_until_up(spiko_url + "/healthz", spiko, spiko_log)

            credentials = base64.b64encode(f"{key['client_id']}:{key['client_secret']}".encode()).decode()
            me = httpx.get(spiko_url + "/v1/investors/me", headers={"Authorization": "Basic " + credentials})
            me.raise_for_status()

            (workdir / "bare_app.py").write_text(BARE_APP.format(body=me.text))
            bare_log = workdir / "bare.log"
            with open(bare_log, "wb") as log:
                bare = subprocess.Popen(
                    [
                        PYTHON,
                        "-m",
                        "uvicorn",
                        "bare_app:app",
                        "--app-dir",
                        str(workdir),
                        "--port",
                        str(bare_port),
                        "--workers",
                        str(args.workers),
                        "--no-access-log",
                        "--log-level",
                        "warning",
                    ],
                    cwd=workdir,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            processes.append(bare)
            bare_url = f"http://127.0.0.1:{bare_port}"
            wait_until_up(bare_url + "/v1/investors/me", bare, bare_log)
            assert httpx.get(bare_url + "/v1/investors/me").json() == me.json()

            script = workdir / "auth.lua"
            script.write_text(f'wrk.headers["Authorization"] = "Basic {credentials}"\n')
            target_spiko = spiko_url + "/v1/investors/me"
            target_bare = bare_url + "/v1/investors/me"
            load = {"connections": args.connections, "threads": args.threads}

            report = Report(kind, args.workers)
            served = 0
            pids = worker_pids(spiko.pid)
            workers = {"spiko": pids, "bare": worker_pids(bare.pid)}
            assert len(pids) == len(workers["bare"]) == args.workers, workers
            report.worker_rss_before_mb = [round(rss_mb(pid), 1) for pid in pids]
            served += wrk(target_spiko, duration=2, script=script, **load).requests  # warm-up
            wrk(target_bare, duration=2, script=None, **load)
            for index in range(args.rounds):
                # Alternate which goes first, so neither always meets the same background noise.
                order = [("spiko", target_spiko, script), ("bare", target_bare, None)]
                if index % 2:
                    order.reverse()
                results: dict[str, WrkResult] = {}
                cpu_per_request: dict[str, float] = {}
                for name, url, lua in order:
                    cpu_before = cpu_seconds(workers[name])
                    results[name] = wrk(url, duration=args.duration, script=lua, **load)
                    spent = cpu_seconds(workers[name]) - cpu_before
                    cpu_per_request[name] = spent / results[name].requests * 1e6
                served += results["spiko"].requests
                for name, result in results.items():
                    if result.non_2xx or result.errors:
                        raise RuntimeError(f"{name}: {result.non_2xx} non-2xx, {result.errors} socket errors")
                ratio = results["spiko"].requests_per_second / results["bare"].requests_per_second
                report.rounds.append(
                    {
                        "spiko_rps": round(results["spiko"].requests_per_second),
                        "bare_rps": round(results["bare"].requests_per_second),
                        "ratio": round(ratio, 3),
                        "spiko_p99_ms": results["spiko"].latency_p99_ms,
                        "bare_p99_ms": results["bare"].latency_p99_ms,
                        # Server CPU per request (all workers): less sensitive to other load.
                        "spiko_cpu_us": round(cpu_per_request["spiko"], 1),
                        "bare_cpu_us": round(cpu_per_request["bare"], 1),
                        "cpu_ratio": round(cpu_per_request["bare"] / cpu_per_request["spiko"], 3),
                    }
                )
                print(f"[{kind}] round {index + 1}: {report.rounds[-1]}", file=sys.stderr, flush=True)
            report.median_ratio = round(statistics.median(r["ratio"] for r in report.rounds), 3)
            report.median_cpu_ratio = round(statistics.median(r["cpu_ratio"] for r in report.rounds), 3)
            report.spiko_rps_median = round(statistics.median(r["spiko_rps"] for r in report.rounds))
            report.bare_rps_median = round(statistics.median(r["bare_rps"] for r in report.rounds))

            while served < args.memory_requests:
                served += wrk(target_spiko, duration=5, script=script, **load).requests
            report.requests_served = served
            report.worker_rss_mb = [round(rss_mb(pid), 1) for pid in worker_pids(spiko.pid)]
            for process in processes:
                stop(process)
            return report
    finally:
        for process in processes:
            stop(process)
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory-requests", type=int, default=100_000)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is required (Debian: apt-get install wrk)", file=sys.stderr)
        return 1
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    reports = [run_one(kind, args) for kind in kinds]
    print(json.dumps([report.__dict__ for report in reports], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
