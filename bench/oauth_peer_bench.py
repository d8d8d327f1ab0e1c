"""The token services against a reference provider and against the code they replace, in one run.

Usage (from the repository root; loopback only, every load bounded in time and count):

    .venv/bin/python bench/oauth_peer_bench.py [--baseline REF] [--seconds 5] [--rounds 3]

It installs panva's ``oidc-provider`` (pinned in ``bench/peer/package.json`` and its lock file)
into ``bench/peer/node_modules`` with ``npm ci`` when it is missing, and extracts the source of
``--baseline`` (a git revision, default the code before issue 12 item 3; ``none`` to skip) from
this repository into a temporary folder, run with the same installed dependencies. Then, with wrk
on 127.0.0.1:

1. **Introspection**, one process each: the peer (``/token/introspection``, an opaque
   client-credentials token), Spiko and the baseline (``/oauth2/introspect``, an access token
   from the code flow), all with ``client_secret_basic``, alternating round by round.
2. **Code exchange and refresh** at ``/oauth2/token``, 2 workers each, Spiko and the baseline
   alternating: codes are minted in the database beforehand (the authorization endpoint's rows);
   refresh tokens rotate in chains (each answer's new refresh token is the chain's next request).
3. **/v1 with an API key and with a Bearer token** against a bare FastAPI route returning the
   same JSON with no authentication and no database, 2 workers each, alternating.

Each server's database is set up by its own code (the baseline's by a subprocess run on its
extracted source tree: its migrations, its models). Beside every rate, the CPU the server used per
request (user + system time of the server and its workers, from /proc, over the wrk run): on a
shared machine the figure to compare. Every response must be a 2xx. Prints the load average
before and after and with each round, each round's rates and CPU per request, and the ratios of
both; a JSON report on stdout.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
# The code a server's database is set up with: its own (the baseline's extracted source for the
# baseline server, see ``setup_database``), so that its migrations and models are the ones it runs.
SRC = Path(os.environ.get("BENCH_SPIKO_SRC") or ROOT / "src")
sys.path.insert(0, str(SRC))
sys.path.insert(0, str(BENCH))

from oauth_bench import (  # noqa: E402
    REDIRECT_URI,
    SECRET_KEY,
    authorize_url,
    code_from,
    csrf,
    exchange,
    free_port,
    sign_in,
    wait_up,
)

# oauth_bench put this checkout's ``src`` first: the server's own source tree goes before it.
sys.path.insert(0, str(SRC))

PEER = BENCH / "peer"
# The code before the token services were profiled and made fast (issue 12 item 3): the rates
# docs/performance.md gave until then were measured on it.
BASELINE = "0cacc8f"
WRK = "/usr/bin/wrk"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load_average() -> str:
    return Path("/proc/loadavg").read_text().split(" tid")[0].strip()


# -- wrk -------------------------------------------------------------------------------------------

STATIC_POST = """
wrk.method = "POST"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = {authorization}
"""

# Single-use values (authorization codes) read from a file, split between wrk's threads.
CODES = """
local counter = 0
local threads = {{}}
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
function init(args)
  codes, next_code, n = {{}}, 1, 0
  for line in io.lines({path}) do
    if n % {threads} == id then table.insert(codes, line) end
    n = n + 1
  end
end
function request()
  local code = codes[next_code] or "exhausted"
  next_code = next_code + 1
  return wrk.format("POST", {target}, {{["Content-Type"] = "application/x-www-form-urlencoded",
    ["Authorization"] = {authorization}}},
    "grant_type=authorization_code&redirect_uri=" .. {redirect} .. "&code=" .. code)
end
"""

# Refresh-token chains: each thread holds its chains' current tokens; an answer's new refresh
# token goes back to the end of the queue.
CHAINS = """
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end
function init(args)
  queue, first, last, n = {{}}, 1, 0, 0
  for line in io.lines({path}) do
    if n % {threads} == id then last = last + 1; queue[last] = line end
    n = n + 1
  end
end
function request()
  local token = queue[first] or "exhausted"
  queue[first] = nil
  first = first + 1
  return wrk.format("POST", {target}, {{["Content-Type"] = "application/x-www-form-urlencoded",
    ["Authorization"] = {authorization}}}, "grant_type=refresh_token&refresh_token=" .. token)
end
function response(status, headers, body)
  local token = string.match(body, '"refresh_token": *"([^"]+)"')
  if token then last = last + 1; queue[last] = token end
end
"""


def lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string of ASCII is a valid Lua string literal


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` and its live children (a server's workers), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:  # fields[1]: the parent's pid
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def wrk(
    url: str,
    seconds: int,
    connections: int,
    script: str | None = None,
    headers: Any = None,
    cpu: tuple[int, list[float]] | None = None,
) -> float:
    """Requests per second; refuses a run with any non-2xx answer or socket error. With ``cpu``
    (a server's pid, a list), appends the server's CPU milliseconds per request to the list."""
    command = [WRK, "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    script_file = None
    if script is not None:
        script_file = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)  # noqa: SIM115
        script_file.write(script)
        script_file.close()
        command += ["-s", script_file.name]
    cpu_before = process_cpu_seconds(cpu[0]) if cpu else 0.0
    try:
        output = subprocess.run([*command, url], capture_output=True, text=True, timeout=seconds + 60).stdout
    finally:
        if script_file is not None:
            os.unlink(script_file.name)
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: .*", output)
    if not match or errors:
        raise RuntimeError(f"wrk failed or saw errors on {url}:\n{output}")
    if cpu:
        requests = re.search(r"(\d+) requests in", output)
        used = process_cpu_seconds(cpu[0]) - cpu_before
        cpu[1].append(round(1000 * used / max(1, int(requests.group(1)) if requests else 1), 3))
    return float(match.group(1))


# -- the servers -----------------------------------------------------------------------------------


@dataclass
class Spiko:
    """A ``spiko serve`` on its own fresh SQLite database, with one investor, app and API key."""

    name: str
    src: Path
    workers: int
    workdir: Path
    process: subprocess.Popen[bytes] | None = None
    issuer: str = ""
    client_id: str = ""
    secret: str = ""
    api_key: str = ""
    access_token: str = ""
    database_url: str = ""
    email: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def start(self) -> Spiko:
        folder = self.workdir / f"{self.name}-{self.workers}"
        folder.mkdir()
        self.database_url = f"sqlite:///{folder / 'spiko.db'}"
        port = free_port()
        self.issuer = f"http://127.0.0.1:{port}"
        self.email, password = f"bench-{uuid.uuid4().hex[:8]}@example.com", "bench password 123"
        made = json.loads(self._own_code("setup", self.database_url, self.issuer, self.email, password))
        self.client_id, self.secret = made["client_id"], made["secret"]
        self.api_key = basic(made["key_id"], made["key_secret"])
        env = {
            **os.environ,
            "PYTHONPATH": str(self.src),
            "SPIKO_DATABASE_URL": self.database_url,
            "SPIKO_SECRET_KEY": SECRET_KEY,
            "SPIKO_ISSUER": self.issuer,
            "SPIKO_LOG_LEVEL": "WARNING",
            # The benchmark measures the endpoints, not the abuse limits in front of them.
            "SPIKO_TOKEN_REQUESTS_PER_CLIENT": "100000000",
            "SPIKO_TOKEN_REQUESTS_PER_ADDRESS": "100000000",
            "SPIKO_LOGIN_ATTEMPTS_PER_ADDRESS": "100000",
        }
        self.extra["log"] = open(folder / "server.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "spiko.cli", "serve", "--port", str(port), "--workers", str(self.workers)],
            env=env,
            cwd=folder,
            stdout=self.extra["log"],
            stderr=subprocess.STDOUT,
        )
        try:
            wait_up(self.issuer + "/healthz", self.process, timeout=300)  # a loaded machine starts slowly
        except RuntimeError:
            self.extra["log"].flush()
            log((folder / "server.log").read_text()[-3000:])
            raise
        with httpx.Client(base_url=self.issuer, timeout=30) as browser:
            sign_in(browser, self.email, password)
            url = authorize_url(self.client_id)
            page = browser.get(url)
            answer = browser.post(url, data={"csrf_token": csrf(page.text), "decision": "allow"})
            self.access_token = exchange(browser, self.client_id, self.secret, code_from(answer))[
                "access_token"
            ]
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def mint_codes(self, count: int) -> list[str]:
        """Authorization codes as the authorization endpoint stores them (consent already given)."""
        return self._own_code("mint", self.database_url, self.client_id, self.email, str(count)).split()

    def _own_code(self, *command: str) -> str:
        """Runs ``command`` of this script with the server's own source tree (``SRC``)."""
        env = {**os.environ, "BENCH_SPIKO_SRC": str(self.src), "PYTHONPATH": str(self.src)}
        done = subprocess.run(
            [sys.executable, __file__, "--own-code", *command], env=env, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"{command[0]} with {self.src} failed:\n{done.stderr[-3000:]}")
        return done.stdout

    def refresh_chains(self, count: int) -> list[str]:
        codes = self.mint_codes(count)
        with httpx.Client(base_url=self.issuer, timeout=30) as http:
            return [exchange(http, self.client_id, self.secret, code)["refresh_token"] for code in codes]

    def stop(self) -> None:
        stop(self.process)
        self.extra["log"].close()


def setup_database(database_url: str, issuer: str, email: str, password: str) -> dict[str, str]:
    """A fresh database, migrated, with one investor, one confidential app and one API key."""
    from spiko.auth.oauth.clients import register_client
    from spiko.config import Settings
    from spiko.context import AppContext
    from spiko.db.migrate import upgrade
    from spiko.services import identity

    upgrade(database_url)
    ctx = AppContext(Settings(database_url=database_url, secret_key=SECRET_KEY, issuer=issuer))
    with ctx.transaction() as session:
        investor, _ = identity.create_investor(
            session, name="Bench Treasury SAS", email=email, password=password
        )
        client = register_client(session, name="Bench App", redirect_uris=[REDIRECT_URI], public=False)
        key = identity.create_api_key(
            session, ctx.api_keys, investor_id=investor.id, name="bench", max_live_keys=20
        )
    ctx.close()
    return {
        "client_id": client.client_id,
        "secret": client.client_secret or "",
        "key_id": key.client_id,
        "key_secret": key.client_secret,
    }


def mint_codes(database_url: str, client_id: str, email: str, count: int) -> list[str]:
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session

    from spiko.auth.oauth.tokens import hash_token
    from spiko.db.models.identity import User
    from spiko.db.models.oauth import OAuthAuthorizationCode, OAuthClient
    from spiko.db.types import utcnow

    engine = create_engine(database_url)
    codes = [secrets.token_urlsafe(32) for _ in range(count)]
    with Session(engine) as session, session.begin():
        client_pk = session.scalar(select(OAuthClient.id).where(OAuthClient.client_id == client_id))
        user = session.scalars(select(User).where(User.email == email)).one()
        now = utcnow()
        session.add_all(
            OAuthAuthorizationCode(
                code_hash=hash_token(code),
                client_pk=client_pk,
                investor_id=user.investor_id,
                user_id=user.id,
                redirect_uri=REDIRECT_URI,
                scope="offline",
                auth_time=now,
                expires_at=now + timedelta(hours=1),
            )
            for code in codes
        )
    engine.dispose()
    return codes


def own_code(command: list[str]) -> None:
    """``--own-code setup|mint ...``: run by ``Spiko._own_code`` with a server's source tree."""
    if command[0] == "setup":
        print(json.dumps(setup_database(*command[1:5])))
    else:
        print("\n".join(mint_codes(command[1], command[2], command[3], int(command[4]))))


def stop(process: subprocess.Popen[Any] | None) -> None:
    if process is None:
        return
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def start_peer() -> tuple[subprocess.Popen[str], str, dict[str, str]]:
    if not (PEER / "node_modules" / "oidc-provider").exists():
        log("installing oidc-provider (npm ci in bench/peer)")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=PEER, check=True, timeout=600)
    port = free_port()
    process = subprocess.Popen(
        ["node", str(PEER / "peer.mjs"), str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    while line and not line.startswith("{"):  # the provider's start-up warnings
        line = process.stdout.readline()
    if not line:
        raise RuntimeError("the peer did not start")
    return process, f"http://127.0.0.1:{port}", json.loads(line)


def baseline_source(revision: str, workdir: Path) -> Path:
    """The ``src`` folder of ``revision``, extracted from this repository."""
    target = workdir / "baseline"
    target.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision, "src"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target / "src"


def mean(values: list[float], digits: int = 1) -> float:
    return round(sum(values) / len(values), digits)


def ratio(reference: list[float], measured: list[float]) -> float:
    """CPU milliseconds per request of ``reference`` over ``measured``'s: how many times as many
    requests ``measured`` answers with the same CPU (above 1: it is the cheaper)."""
    return round(sum(reference) / sum(measured), 2)


# -- the measures ----------------------------------------------------------------------------------


def introspection(args: argparse.Namespace, workdir: Path, baseline: Path | None) -> dict[str, Any]:
    peer, peer_url, peer_client = start_peer()
    servers = [Spiko("spiko", ROOT / "src", 1, workdir).start()]
    if baseline is not None:
        servers.append(Spiko("baseline", baseline, 1, workdir).start())
    try:
        targets: dict[str, tuple[str, str, str]] = {  # url, body, Authorization
            "peer": (
                peer_url + peer_client["introspection_path"],
                "token=" + peer_client["access_token"],
                basic(peer_client["client_id"], peer_client["client_secret"]),
            )
        }
        for server in servers:
            targets[server.name] = (
                server.issuer + "/oauth2/introspect",
                "token=" + server.access_token,
                basic(server.client_id, server.secret),
            )
        scripts = {
            name: STATIC_POST.format(body=lua_string(body), authorization=lua_string(authorization))
            for name, (_, body, authorization) in targets.items()
        }
        for name, (url, body, authorization) in targets.items():  # each answers "active": true
            form = {"Authorization": authorization, "Content-Type": "application/x-www-form-urlencoded"}
            answer = httpx.post(url, content=body, headers=form).json()
            assert answer.get("active") is True, (name, answer)
            wrk(url, 2, args.connections, scripts[name])  # warm up
        pids = {"peer": peer.pid, **{server.name: server.pid for server in servers}}
        rates: dict[str, list[float]] = {name: [] for name in targets}
        cpu: dict[str, list[float]] = {name: [] for name in targets}
        for round_ in range(args.rounds):
            for name, (url, _, _) in targets.items():
                rate = wrk(url, args.seconds, args.connections, scripts[name], cpu=(pids[name], cpu[name]))
                rates[name].append(rate)
            log(
                f"introspection round {round_ + 1} (load {load_average()}): "
                + ", ".join(f"{k} {v[-1]:.0f}/s ({cpu[k][-1]:.3f} ms CPU)" for k, v in rates.items())
            )
        result: dict[str, Any] = {f"{name}_per_s": mean(values) for name, values in rates.items()}
        result.update({f"{name}_cpu_ms_per_request": mean(values, 3) for name, values in cpu.items()})
        result["spiko_vs_peer"] = round(result["spiko_per_s"] / result["peer_per_s"], 2)
        result["spiko_vs_peer_by_cpu"] = ratio(cpu["peer"], cpu["spiko"])
        if baseline is not None:
            result["baseline_vs_peer"] = round(result["baseline_per_s"] / result["peer_per_s"], 2)
            result["spiko_vs_baseline"] = round(result["spiko_per_s"] / result["baseline_per_s"], 2)
            result["spiko_vs_baseline_by_cpu"] = ratio(cpu["baseline"], cpu["spiko"])
        result["rounds"] = rates
        result["cpu_rounds"] = cpu
        return result
    finally:
        stop(peer)
        for server in servers:
            server.stop()


def token_endpoint(
    args: argparse.Namespace, workdir: Path, baseline: Path | None, *, measure: bool = True
) -> tuple[dict[str, Any], Spiko]:
    servers = [Spiko("spiko", ROOT / "src", 2, workdir).start()]
    if not measure:
        return {}, servers[0]
    if baseline is not None:
        servers.append(Spiko("baseline", baseline, 2, workdir).start())
    exchanges: dict[str, list[float]] = {server.name: [] for server in servers}
    refreshes: dict[str, list[float]] = {server.name: [] for server in servers}
    exchange_cpu: dict[str, list[float]] = {server.name: [] for server in servers}
    refresh_cpu: dict[str, list[float]] = {server.name: [] for server in servers}
    try:
        for round_ in range(args.rounds + 1):  # the first round warms up
            for server in servers:
                codes_file = workdir / f"codes-{server.name}.txt"
                codes_file.write_text("\n".join(server.mint_codes(args.codes)) + "\n")
                script = CODES.format(
                    path=lua_string(str(codes_file)),
                    threads=2,
                    target=lua_string("/oauth2/token"),
                    authorization=lua_string(basic(server.client_id, server.secret)),
                    redirect=lua_string(REDIRECT_URI),
                )
                cpu: list[float] = []
                rate = wrk(
                    server.issuer + "/oauth2/token",
                    args.seconds,
                    args.connections,
                    script,
                    cpu=(server.pid, cpu),
                )
                chains_file = workdir / f"chains-{server.name}.txt"
                chains_file.write_text("\n".join(server.refresh_chains(2 * args.connections)) + "\n")
                script = CHAINS.format(
                    path=lua_string(str(chains_file)),
                    threads=2,
                    target=lua_string("/oauth2/token"),
                    authorization=lua_string(basic(server.client_id, server.secret)),
                )
                refresh_rate = wrk(
                    server.issuer + "/oauth2/token",
                    args.seconds,
                    args.connections,
                    script,
                    cpu=(server.pid, cpu),
                )
                if round_ > 0:
                    exchanges[server.name].append(rate)
                    refreshes[server.name].append(refresh_rate)
                    exchange_cpu[server.name].append(cpu[0])
                    refresh_cpu[server.name].append(cpu[1])
            if round_ > 0:
                log(
                    f"token round {round_} (load {load_average()}): "
                    + ", ".join(
                        f"{name} exchanges {exchanges[name][-1]:.0f}/s ({exchange_cpu[name][-1]:.2f} ms CPU)"
                        f" refreshes {refreshes[name][-1]:.0f}/s ({refresh_cpu[name][-1]:.2f} ms CPU)"
                        for name in exchanges
                    )
                )
    finally:
        for server in servers[1:]:
            server.stop()
    result: dict[str, Any] = {}
    for name in exchanges:
        result[f"{name}_code_exchange_per_s"] = mean(exchanges[name])
        result[f"{name}_refresh_per_s"] = mean(refreshes[name])
        result[f"{name}_code_exchange_cpu_ms"] = mean(exchange_cpu[name], 3)
        result[f"{name}_refresh_cpu_ms"] = mean(refresh_cpu[name], 3)
    if baseline is not None:
        result["code_exchange_vs_baseline"] = round(
            result["spiko_code_exchange_per_s"] / result["baseline_code_exchange_per_s"], 2
        )
        result["refresh_vs_baseline"] = round(
            result["spiko_refresh_per_s"] / result["baseline_refresh_per_s"], 2
        )
        result["code_exchange_vs_baseline_by_cpu"] = ratio(exchange_cpu["baseline"], exchange_cpu["spiko"])
        result["refresh_vs_baseline_by_cpu"] = ratio(refresh_cpu["baseline"], refresh_cpu["spiko"])
    result["rounds"] = {"code_exchange": exchanges, "refresh": refreshes}
    result["cpu_rounds"] = {"code_exchange": exchange_cpu, "refresh": refresh_cpu}
    return result, servers[0]


def v1_against_bare(args: argparse.Namespace, workdir: Path, server: Spiko) -> dict[str, Any]:
    url = server.issuer + "/v1/investors/me"
    body = httpx.get(url, headers={"Authorization": server.api_key}).json()
    bare_port = free_port()
    bare = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "oauth_bench:bare_app", "--app-dir", str(BENCH),
         "--port", str(bare_port), "--workers", str(server.workers), "--log-level", "warning",
         "--no-access-log"],
        env={**os.environ, "BENCH_BARE_BODY": json.dumps(body)},
        cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        bare_url = f"http://127.0.0.1:{bare_port}/v1/investors/me"
        wait_up(bare_url, bare)
        assert httpx.get(bare_url).json() == body
        bearer = {"Authorization": f"Bearer {server.access_token}"}
        key = {"Authorization": server.api_key}
        wrk(bare_url, 2, args.connections)
        wrk(url, 2, args.connections, headers=key)
        rates: dict[str, list[float]] = {"bare": [], "api_key": [], "bearer": []}
        cpu: dict[str, list[float]] = {"bare": [], "api_key": [], "bearer": []}
        for round_ in range(args.rounds):
            rates["bare"].append(wrk(bare_url, args.seconds, args.connections, cpu=(bare.pid, cpu["bare"])))
            for name, sent in (("api_key", key), ("bearer", bearer)):
                rate = wrk(url, args.seconds, args.connections, headers=sent, cpu=(server.pid, cpu[name]))
                rates[name].append(rate)
            log(
                f"/v1 round {round_ + 1} (load {load_average()}): "
                + ", ".join(f"{k} {v[-1]:.0f}/s ({cpu[k][-1]:.3f} ms CPU)" for k, v in rates.items())
            )
    finally:
        stop(bare)
    result: dict[str, Any] = {f"{name}_per_s": mean(values) for name, values in rates.items()}
    result.update({f"{name}_cpu_ms_per_request": mean(values, 3) for name, values in cpu.items()})
    result["api_key_vs_bare"] = round(result["api_key_per_s"] / result["bare_per_s"], 2)
    result["bearer_vs_bare"] = round(result["bearer_per_s"] / result["bare_per_s"], 2)
    result["api_key_vs_bare_by_cpu"] = ratio(cpu["bare"], cpu["api_key"])
    result["bearer_vs_bare_by_cpu"] = ratio(cpu["bare"], cpu["bearer"])
    result["rounds"] = rates
    result["cpu_rounds"] = cpu
    return result


def main() -> None:
    if sys.argv[1:2] == ["--own-code"]:
        own_code(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=BASELINE, help="git revision to compare with ('none': skip)")
    parser.add_argument("--seconds", type=int, default=5, help="wrk duration per run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--codes", type=int, default=6000, help="codes minted per exchange run")
    parser.add_argument(
        "--only", choices=["introspection", "token", "v1"], action="append", help="run only these parts"
    )
    args = parser.parse_args()
    parts = set(args.only or ["introspection", "token", "v1"])
    workdir = Path(tempfile.mkdtemp(prefix="spiko-peer-bench-"))
    report: dict[str, Any] = {"load_average_before": load_average(), "nproc": os.cpu_count()}
    try:
        baseline = None if args.baseline == "none" else baseline_source(args.baseline, workdir)
        if baseline is not None:
            revision = subprocess.run(
                ["git", "-C", str(ROOT), "rev-parse", "--short", args.baseline],
                capture_output=True,
                text=True,
            ).stdout.strip()
            report["baseline"] = f"{args.baseline} ({revision})"
        if "introspection" in parts:
            report["introspection_1_process"] = introspection(args, workdir, baseline)
        if parts & {"token", "v1"}:
            token, server = token_endpoint(args, workdir, baseline, measure="token" in parts)
            try:
                if "token" in parts:
                    report["token_endpoint_2_workers"] = token
                if "v1" in parts:
                    report["v1_2_workers"] = v1_against_bare(args, workdir, server)
            finally:
                server.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report["load_average_after"] = load_average()
    report["wrk"] = f"-t2 -c{args.connections} -d{args.seconds}s, {args.rounds} rounds alternating"
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
