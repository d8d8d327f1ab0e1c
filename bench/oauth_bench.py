"""OAuth benchmark: Bearer on /v1/investors/me against a bare endpoint, and the token endpoint.

Usage (from the repository root; loopback only, every load bounded in time and count):

    .venv/bin/python bench/oauth_bench.py [--database-url URL] [--workers 2] [--seconds 10]

It starts ``spiko serve --workers N`` on a fresh database and, beside it, a bare FastAPI app with
the same number of uvicorn workers that returns the same JSON with no authentication and no
database. With wrk (``/usr/bin/wrk``) it measures both in the same run, alternating, and
reports the ratio. Then, with httpx threads, it measures the token endpoint (code exchange and
refresh) and full authorize -> consent -> token round trips per second.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

SECRET_KEY = "bench-secret-key-" + "b" * 32
REDIRECT_URI = "http://127.0.0.1:8765/callback"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')

# The bare app: same framework, same JSON, no authentication, no database.
BARE_BODY: dict[str, Any] = {}


def _bare_app() -> Any:
    from fastapi import FastAPI

    app = FastAPI()
    body = json.loads(os.environ.get("BENCH_BARE_BODY", "{}"))

    # async, like the API-key benchmark's: the strongest baseline the framework offers.
    @app.get("/v1/investors/me")
    async def me() -> dict[str, Any]:
        return body

    return app


if os.environ.get("BENCH_BARE_BODY"):
    bare_app = _bare_app()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_up(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early ({process.returncode})")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def wrk(url: str, headers: dict[str, str], seconds: int, connections: int) -> float:
    command = ["/usr/bin/wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, timeout=seconds + 30).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if not match or non2xx:
        raise RuntimeError(f"wrk failed or saw errors:\n{output}")
    return float(match.group(1))


def csrf(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match
    return match.group(1)


def sign_in(browser: httpx.Client, email: str, password: str) -> None:
    page = browser.get("/login")
    answer = browser.post(
        "/login", data={"email": email, "password": password, "csrf_token": csrf(page.text)}
    )
    assert answer.status_code in (200, 303), answer.status_code


def authorize_url(client_id: str, *, prompt: str | None = None) -> str:
    query = {
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "response_type": "code",
        "scope": "offline",
        "state": uuid.uuid4().hex,
    }
    if prompt:
        query["prompt"] = prompt
    return "/oauth2/auth?" + urlencode(query)


def code_from(response: httpx.Response) -> str:
    assert response.status_code == 302, (response.status_code, response.text[:300])
    return parse_qs(urlsplit(response.headers["location"]).query)["code"][0]


def round_trip(browser: httpx.Client, client_id: str, secret: str) -> dict[str, Any]:
    """authorize (consent page shown) -> allow -> code -> token."""
    url = authorize_url(client_id, prompt="consent")
    page = browser.get(url)
    answer = browser.post(url, data={"csrf_token": csrf(page.text), "decision": "allow"})
    code = code_from(answer)
    return exchange(browser, client_id, secret, code)


def exchange(http: httpx.Client, client_id: str, secret: str, code: str) -> dict[str, Any]:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    response = http.post("/oauth2/token", data=data, auth=(client_id, secret))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def parallel(threads: int, seconds: float, max_count: int, work: Any) -> tuple[int, float]:
    """Run ``work(thread_index)`` in a loop on ``threads`` threads, bounded in time and count."""
    done = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def loop(index: int) -> None:
        while time.monotonic() < stop:
            with lock:
                if done[0] >= max_count:
                    return
                done[0] += 1
            if not work(index):
                return

    started = time.perf_counter()
    pool = [threading.Thread(target=loop, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=seconds + 60)
    return done[0], time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=8, help="httpx threads for the token endpoint")
    args = parser.parse_args()

    from spiko.auth.oauth.clients import register_client
    from spiko.config import Settings
    from spiko.context import AppContext
    from spiko.db.migrate import upgrade
    from spiko.services import identity

    workdir = Path(tempfile.mkdtemp(prefix="spiko-oauth-bench-"))
    database_url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    upgrade(database_url)
    port, bare_port = free_port(), free_port()
    issuer = f"http://127.0.0.1:{port}"
    ctx = AppContext(Settings(database_url=database_url, secret_key=SECRET_KEY, issuer=issuer))
    email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
    password = "bench password 123"
    with ctx.transaction() as session:
        investor, _ = identity.create_investor(
            session, name="Bench Treasury SAS", email=email, password=password
        )
        client = register_client(session, name="Bench App", redirect_uris=[REDIRECT_URI], public=False)
        api_key = identity.create_api_key(
            session, ctx.api_keys, investor_id=investor.id, name="bench", max_live_keys=20
        )
    ctx.close()
    client_id, secret = client.client_id, client.client_secret or ""

    env = {
        **os.environ,
        "SPIKO_DATABASE_URL": database_url,
        "SPIKO_SECRET_KEY": SECRET_KEY,
        "SPIKO_ISSUER": issuer,
        "SPIKO_LOG_LEVEL": "WARNING",
        # The benchmark measures the endpoint, not the abuse limits in front of it.
        "SPIKO_TOKEN_REQUESTS_PER_CLIENT": "100000000",
        "SPIKO_TOKEN_REQUESTS_PER_ADDRESS": "100000000",
        "SPIKO_LOGIN_ATTEMPTS_PER_ADDRESS": "100000",
    }
    log = open(workdir / "server.log", "wb")  # noqa: SIM115
    server = subprocess.Popen(
        [sys.executable, "-m", "spiko.cli", "serve", "--port", str(port), "--workers", str(args.workers)],
        env=env,
        cwd=workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    bare = None
    results: dict[str, Any] = {"database": "postgresql" if "postgres" in database_url else "sqlite"}
    try:
        wait_up(issuer + "/healthz", server)
        with httpx.Client(base_url=issuer, timeout=30) as browser:
            sign_in(browser, email, password)
            page = browser.get(authorize_url(client_id))
            answer = browser.post(
                authorize_url(client_id), data={"csrf_token": csrf(page.text), "decision": "allow"}
            )
            tokens = exchange(browser, client_id, secret, code_from(answer))
            me = browser.get(
                "/v1/investors/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
            )
            assert me.status_code == 200, me.text
            body = me.json()

            bare_env = {**os.environ, "BENCH_BARE_BODY": json.dumps(body)}
            bare = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "oauth_bench:bare_app", "--app-dir", str(ROOT / "bench"),
                 "--port", str(bare_port), "--workers", str(args.workers), "--log-level", "warning",
                 "--no-access-log"],
                env=bare_env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            bare_url = f"http://127.0.0.1:{bare_port}/v1/investors/me"
            wait_up(bare_url, bare)
            assert httpx.get(bare_url).json() == body

            bearer_url = issuer + "/v1/investors/me"
            header = {"Authorization": f"Bearer {tokens['access_token']}"}
            wrk(bare_url, {}, 2, args.connections)  # warm both up
            wrk(bearer_url, header, 2, args.connections)
            raw = f"{api_key.client_id}:{api_key.client_secret}".encode()
            key_header = {"Authorization": "Basic " + base64.b64encode(raw).decode()}
            bare_rates, bearer_rates, key_rates = [], [], []
            for _ in range(args.rounds):
                bare_rates.append(wrk(bare_url, {}, args.seconds, args.connections))
                bearer_rates.append(wrk(bearer_url, header, args.seconds, args.connections))
                key_rates.append(wrk(bearer_url, key_header, args.seconds, args.connections))
            results["bare_rps"] = round(sum(bare_rates) / len(bare_rates), 1)
            results["bearer_rps"] = round(sum(bearer_rates) / len(bearer_rates), 1)
            results["api_key_rps"] = round(sum(key_rates) / len(key_rates), 1)
            results["bearer_vs_bare"] = round(results["bearer_rps"] / results["bare_rps"], 3)
            results["api_key_vs_bare"] = round(results["api_key_rps"] / results["bare_rps"], 3)

            # Token endpoint, code exchange: codes minted first (consent is remembered, so each
            # authorization request answers with a code at once).
            count = 600
            codes = [code_from(browser.get(authorize_url(client_id))) for _ in range(count)]
            clients = [httpx.Client(base_url=issuer, timeout=30) for _ in range(args.threads)]
            refresh_tokens: list[list[str]] = [[] for _ in range(args.threads)]

            def redeem(index: int) -> bool:
                try:
                    code = codes.pop()
                except IndexError:
                    return False
                token = exchange(clients[index], client_id, secret, code)
                refresh_tokens[index].append(token["refresh_token"])
                return True

            done, elapsed = parallel(args.threads, 60, count, redeem)
            results["code_exchange_per_s"] = round(done / elapsed, 1)

            # Refresh: each thread rotates its own chains (a refresh token is single-use).
            def rotate(index: int) -> bool:
                chain = refresh_tokens[index]
                current = chain.pop(0)
                response = clients[index].post(
                    "/oauth2/token",
                    data={"grant_type": "refresh_token", "refresh_token": current},
                    auth=(client_id, secret),
                )
                assert response.status_code == 200, response.text
                chain.append(response.json()["refresh_token"])
                return True

            done, elapsed = parallel(args.threads, 20, 2000, rotate)
            results["refresh_per_s"] = round(done / elapsed, 1)

            # Full round trips: authorization request, consent page, allow, code, token.
            browsers = []
            for _ in range(args.threads):
                session_client = httpx.Client(base_url=issuer, timeout=30)
                sign_in(session_client, email, password)
                browsers.append(session_client)

            def full(index: int) -> bool:
                round_trip(browsers[index], client_id, secret)
                return True

            done, elapsed = parallel(args.threads, 20, 600, full)
            results["round_trips_per_s"] = round(done / elapsed, 1)
            for http in clients + browsers:
                http.close()
    finally:
        for process in (bare, server):
            if process is not None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
        log.close()
        if args.database_url is None:
            shutil.rmtree(workdir, ignore_errors=True)
    results["workers"] = args.workers
    results["wrk"] = f"-t2 -c{args.connections} -d{args.seconds}s x{args.rounds} rounds, alternating"
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
