"""DPoP benchmark: a DPoP-bound token on /v1/investors/me against a plain Bearer token, same run.

Usage (from the repository root; loopback only, every load bounded in time and count):

    .venv/bin/python bench/dpop_bench.py [--database-url URL] [--redis-url URL] [--workers 2]
                                         [--seconds 5] [--rounds 3]

It starts ``spiko serve --workers N`` on a fresh database, obtains a Bearer token and a DPoP-bound
token through the real authorization flow (sign-in, consent, code, DPoP proof with the server's
nonce), then loads ``GET /v1/investors/me`` with wrk, alternating Bearer and DPoP round by round.
Every DPoP request carries a proof of its own (a fresh ``jti``), signed beforehand and handed to wrk
by a Lua script, so the server does the whole check each time: the signature, method, URL, ``ath``,
age, nonce, and the single-use record of the ``jti`` (in the database, or in Redis with
``--redis-url``). Each round signs its proofs (with a fresh nonce), then runs Bearer, Bearer again
with each request made by a wrk Lua ``request()`` function as the DPoP requests are (the same
driver: the same client-side pace), and DPoP, one after the other; it prints a line per round to
stderr, with the load average at its start, and at the end one JSON object: the medians of the
requests/s of each, of the server CPU time per request of each (read from /proc for the worker
processes, all their threads: a figure the load generator and other load on the machine disturb much
less), of the per-round ratios, and of how long signing one proof took on the client side (which wrk
does not pay). The CPU of the database server or of Redis, when they are processes of their own, is
not counted.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from api_key_bench import cpu_seconds, worker_pids  # noqa: E402
from oauth_bench import (  # noqa: E402
    REDIRECT_URI,
    SECRET_KEY,
    authorize_url,
    code_from,
    csrf,
    free_port,
    sign_in,
    wait_up,
)

WRK_THREADS = 2
# Proofs are accepted for a minute after they are signed (the server's iat window).
SIGNING_BUDGET_SECONDS = 35
# Each wrk thread takes every WRK_THREADS-th proof of the file, so no proof is ever sent twice.
LUA = """
local proofs = {}
local counter = 0
local threads = {}
function setup(thread)
  thread:set("index", #threads)
  table.insert(threads, thread)
end
function init(args)
  for line in io.lines(args[1]) do proofs[#proofs + 1] = line end
end
function request()
  local position = index + 1 + counter * %d
  counter = counter + 1
  if position > #proofs then
    wrk.thread:stop()
  end
  wrk.headers["DPoP"] = proofs[position] or proofs[1]
  return wrk.format(nil)
end
"""

# The same Bearer request each time, but made by a Lua ``request()`` function as the DPoP requests
# are: wrk then loads the server the way it loads it with proofs (a slower generator means fewer
# requests handled per wake-up of the server's event loop, so more CPU per request), and the
# difference between the two runs is the server's work for the proof.
LUA_SAME_DRIVER = """
local counter = 0
function request()
  counter = counter + 1
  return wrk.format(nil)
end
"""


class Profiler:
    """py-spy sampling every worker during one wrk run, its collapsed stacks written to a file.

    ``--nonblocking``: the workers are not paused to be read, so they run as they do unprofiled
    (py-spy's own CPU is not counted in the workers' figures, but it shares the machine).
    """

    def __init__(self, directory: Path | None, pids: list[int], seconds: int) -> None:
        self.directory, self.pids, self.seconds = directory, pids, seconds
        if directory is not None:
            if shutil.which("py-spy") is None:
                raise SystemExit("--profile needs py-spy on the PATH (pip install py-spy)")
            directory.mkdir(parents=True, exist_ok=True)

    def run(self, name: str, run: Any) -> Any:
        if self.directory is None:
            return run()
        seconds = self.seconds
        samplers = [
            subprocess.Popen(
                ["py-spy", "record", "--nonblocking", "--format", "raw", "--rate", "250"]
                + ["--duration", str(seconds), "--pid", str(pid)]
                + ["--output", str(self.directory / f"{name}-{pid}.txt")],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for pid in self.pids
        ]
        try:
            return run()
        finally:
            for sampler in samplers:
                sampler.wait(timeout=seconds + 30)


def measured(
    pids: list[int], run: Any, profiler: Profiler | None = None, name: str = ""
) -> tuple[float, float]:
    """(requests/s, server CPU ms per request) of one wrk run, sampled by ``profiler`` if given."""
    before = cpu_seconds(pids)
    rate, total = profiler.run(name, run) if profiler is not None else run()
    return rate, 1000 * (cpu_seconds(pids) - before) / max(1, total)


def run_wrk(
    url: str, headers: dict[str, str], seconds: int, connections: int, lua: tuple[Path, Path] | None = None
) -> tuple[float, int]:
    """(requests/s, requests) of one wrk run; ``lua``: the script handing out proofs and their file."""
    command = ["/usr/bin/wrk", f"-t{WRK_THREADS}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command += ["-s", str(lua[0]), url, "--", str(lua[1])] if lua else [url]
    output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if not rate or not total or non2xx:
        raise RuntimeError(f"wrk failed or saw errors (stale proofs or nonce?):\n{output}")
    return float(rate.group(1)), int(total.group(1))


def fresh_nonce(me_url: str, token: str, signer: Any) -> str:
    """The server's current DPoP nonce, from the refusal of a proof carrying an unknown one."""
    signer.remember_nonce(me_url, "unknown-nonce")
    proof = signer.proof("GET", me_url, token)
    answer = httpx.get(me_url, headers={"Authorization": f"DPoP {token}", "DPoP": proof}, timeout=30)
    assert answer.status_code == 401 and "DPoP-Nonce" in answer.headers, answer.text
    return answer.headers["DPoP-Nonce"]


def sign_proofs(key: Any, url: str, token: str, nonce: str, count: int, path: Path) -> tuple[float, int]:
    """Write up to ``count`` proofs for ``GET url``, the last signed first, signing for at most
    ``SIGNING_BUDGET_SECONDS`` (older proofs would be stale by the time they are used).

    Returns the seconds one proof took to sign and how many were written.
    """
    from spiko.client.dpop import DPoPSigner

    signer: DPoPSigner = key
    signer.remember_nonce(url, nonce)
    proofs = []
    started = time.perf_counter()
    while len(proofs) < count and time.perf_counter() - started < SIGNING_BUDGET_SECONDS:
        proofs.append(signer.proof("GET", url, token))
    elapsed = time.perf_counter() - started
    path.write_text("".join(proof + "\n" for proof in reversed(proofs)))
    return elapsed / len(proofs), len(proofs)


def load_average() -> float:
    return os.getloadavg()[0]


def dpop_token(
    issuer: str, browser: httpx.Client, client_id: str, secret: str, algorithm: str
) -> tuple[dict[str, Any], Any, str]:
    """A DPoP-bound token from the real flow; the signer holding its key and the server's nonce."""
    from spiko.client.dpop import DPoPSigner

    signer = DPoPSigner(algorithm=algorithm)
    code = code_from(browser.get(authorize_url(client_id)))
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    token_url = issuer + "/oauth2/token"
    for _ in range(2):
        response = browser.post(
            "/oauth2/token",
            data=data,
            auth=(client_id, secret),
            headers={"DPoP": signer.proof("POST", token_url)},
        )
        if response.status_code == 400 and response.json().get("error") == "use_dpop_nonce":
            signer.remember_nonce(token_url, response.headers["DPoP-Nonce"])
            continue
        break
    assert response.status_code == 200 and response.json()["token_type"] == "DPoP", response.text
    return response.json(), signer, response.headers["DPoP-Nonce"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=5, help="wrk duration per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--algorithm", default="PS256", choices=["PS256", "ES256"], help="the DPoP key's")
    parser.add_argument("--redis-url", default=None, help="set SPIKO_REDIS_URL (shared jti records)")
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="a directory: py-spy samples the workers during the last round's runs (collapsed stacks)",
    )
    args = parser.parse_args()

    from spiko.auth.oauth.clients import register_client
    from spiko.config import Settings
    from spiko.context import AppContext
    from spiko.db.migrate import upgrade
    from spiko.services import identity

    workdir = Path(tempfile.mkdtemp(prefix="spiko-dpop-bench-"))
    database_url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    upgrade(database_url)
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    ctx = AppContext(Settings(database_url=database_url, secret_key=SECRET_KEY, issuer=issuer))
    email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
    password = "bench password 123"
    with ctx.transaction() as session:
        identity.create_investor(session, name="Bench Treasury SAS", email=email, password=password)
        client = register_client(session, name="Bench App", redirect_uris=[REDIRECT_URI], public=False)
    ctx.close()
    client_id, secret = client.client_id, client.client_secret or ""
    env = {
        **os.environ,
        "SPIKO_DATABASE_URL": database_url,
        "SPIKO_SECRET_KEY": SECRET_KEY,
        "SPIKO_ISSUER": issuer,
        "SPIKO_LOG_LEVEL": "WARNING",
        "SPIKO_TOKEN_REQUESTS_PER_CLIENT": "100000000",
        "SPIKO_TOKEN_REQUESTS_PER_ADDRESS": "100000000",
        **({"SPIKO_REDIS_URL": args.redis_url} if args.redis_url else {}),
    }
    log = open(workdir / "server.log", "wb")  # noqa: SIM115
    server = subprocess.Popen(
        [sys.executable, "-m", "spiko.cli", "serve", "--port", str(port), "--workers", str(args.workers)],
        env=env,
        cwd=workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    results: dict[str, Any] = {"database": "postgresql" if "postgres" in database_url else "sqlite"}
    try:
        wait_up(issuer + "/healthz", server)
        me_url = issuer + "/v1/investors/me"
        with httpx.Client(base_url=issuer, timeout=30) as browser:
            sign_in(browser, email, password)
            page = browser.get(authorize_url(client_id))
            answer = browser.post(
                authorize_url(client_id), data={"csrf_token": csrf(page.text), "decision": "allow"}
            )
            data = {
                "grant_type": "authorization_code",
                "code": code_from(answer),
                "redirect_uri": REDIRECT_URI,
            }
            bearer_token = browser.post("/oauth2/token", data=data, auth=(client_id, secret)).json()
            bound, signer, nonce = dpop_token(issuer, browser, client_id, secret, args.algorithm)
            proof = signer.proof("GET", me_url, bound["access_token"])
            check = browser.get(
                me_url, headers={"Authorization": f"DPoP {bound['access_token']}", "DPoP": proof}
            )
            assert check.status_code == 200, check.text

        script = workdir / "dpop.lua"
        script.write_text(LUA % WRK_THREADS)
        same_driver = workdir / "bearer.lua"
        same_driver.write_text(LUA_SAME_DRIVER)
        proofs_file = workdir / "proofs.txt"
        bearer_header = {"Authorization": f"Bearer {bearer_token['access_token']}"}
        dpop_header = {"Authorization": f"DPoP {bound['access_token']}"}
        warm = run_wrk(me_url, bearer_header, 2, args.connections)[0]
        # Enough proofs for a DPoP round as fast as a Bearer one, and then some.
        pool = int(max(2000, warm * args.seconds * 1.6))
        pids = worker_pids(server.pid)
        rounds: list[dict[str, Any]] = []
        for number in range(args.rounds):
            profiler = Profiler(args.profile, pids, args.seconds) if number == args.rounds - 1 else None
            # A fresh nonce and fresh proofs each round: both outlive a round, not a whole run.
            nonce = fresh_nonce(me_url, bound["access_token"], signer)
            sign_seconds, signed = sign_proofs(
                signer, me_url, bound["access_token"], nonce, pool, proofs_file
            )
            load = load_average()
            bearer_rate, bearer_cpu = measured(
                pids,
                lambda: run_wrk(me_url, bearer_header, args.seconds, args.connections),
                profiler,
                "bearer",
            )
            driven_rate, driven_cpu = measured(
                pids,
                lambda: run_wrk(
                    me_url, bearer_header, args.seconds, args.connections, lua=(same_driver, proofs_file)
                ),
            )
            dpop_rate, dpop_cpu = measured(
                pids,
                lambda: run_wrk(
                    me_url, dpop_header, args.seconds, args.connections, lua=(script, proofs_file)
                ),
                profiler,
                "dpop",
            )
            rounds.append(
                {
                    "load_average": round(load, 2),
                    "bearer_rps": bearer_rate,
                    "dpop_rps": dpop_rate,
                    "bearer_cpu_ms": round(bearer_cpu, 3),
                    "dpop_cpu_ms": round(dpop_cpu, 3),
                    "cpu_ratio": round(dpop_cpu / bearer_cpu, 3),
                    "throughput_ratio": round(bearer_rate / dpop_rate, 3),
                    "bearer_same_driver_rps": driven_rate,
                    "bearer_same_driver_cpu_ms": round(driven_cpu, 3),
                    "cpu_ratio_same_driver": round(dpop_cpu / driven_cpu, 3),
                    "proofs_signed": signed,
                    "client_sign_ms_per_proof": round(1000 * sign_seconds, 3),
                }
            )
            print(
                f"round (load {load:.2f}): bearer {bearer_rate:.0f}/s {bearer_cpu:.3f} ms CPU, "
                f"dpop {dpop_rate:.0f}/s {dpop_cpu:.3f} ms CPU: "
                f"{dpop_cpu / bearer_cpu:.2f}x (CPU), {bearer_rate / dpop_rate:.2f}x (req/s); "
                f"bearer by the same driver {driven_rate:.0f}/s {driven_cpu:.3f} ms CPU: "
                f"{dpop_cpu / driven_cpu:.2f}x (CPU)",
                file=sys.stderr,
            )

        def median(name: str) -> float:
            return float(statistics.median(entry[name] for entry in rounds))

        results["bearer_rps"] = round(median("bearer_rps"), 1)
        results["dpop_rps"] = round(median("dpop_rps"), 1)
        results["bearer_cpu_ms_per_request"] = round(median("bearer_cpu_ms"), 3)
        results["dpop_cpu_ms_per_request"] = round(median("dpop_cpu_ms"), 3)
        # Each round's ratio compares two runs a few seconds apart, under about the same load.
        results["dpop_vs_bearer_cpu"] = round(median("cpu_ratio"), 3)
        results["dpop_vs_bearer_throughput_cost"] = round(median("throughput_ratio"), 3)
        results["bearer_same_driver_cpu_ms_per_request"] = round(median("bearer_same_driver_cpu_ms"), 3)
        results["dpop_vs_bearer_same_driver_cpu"] = round(median("cpu_ratio_same_driver"), 3)
        results["client_sign_ms_per_proof"] = round(median("client_sign_ms_per_proof"), 3)
        results["load_average"] = {
            "min": min(entry["load_average"] for entry in rounds),
            "max": max(entry["load_average"] for entry in rounds),
            "after": round(load_average(), 2),
        }
        results["rounds"] = rounds
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        if args.database_url is None:
            shutil.rmtree(workdir, ignore_errors=True)
    results["workers"] = args.workers
    results["algorithm"] = args.algorithm
    results["redis"] = bool(args.redis_url)
    results["seconds_per_round"] = args.seconds
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
