"""``spiko serve`` as operators run it: demo data, several workers, revocation, logs, Ctrl-C."""

from __future__ import annotations

import base64
import json
import re
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import basic_auth, create_investor, run_cli, start_server, stop_server
from tests.web.conftest import CLIENT_ID_RE, CSRF_RE, SECRET_RE

pytestmark = pytest.mark.server


def interrupt(server, timeout: float = 20) -> int:
    """Ctrl-C: SIGINT to the server process; return its exit code."""
    server.process.send_signal(signal.SIGINT)
    try:
        return server.process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
        raise


def log_entries(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def web_sign_in(http: httpx.Client, email: str, password: str) -> httpx.Response:
    token = CSRF_RE.search(http.get("/login").text).group(1)
    return http.post("/login", data={"email": email, "password": password, "csrf_token": token})


def test_serve_demo_on_an_empty_database_prints_a_working_key_and_login(databases, tmp_path):
    url = databases.empty()
    server = start_server(url, tmp_path, extra_args=["--demo"])
    try:
        output = server.log()
        client_id = re.search(r"^client_id: (\S+)$", output, flags=re.M)
        client_secret = re.search(r"^client_secret: (\S+)$", output, flags=re.M)
        login = re.search(r"^Demo login:\s+(\S+) / (\S+)$", output, flags=re.M)
        assert client_id and client_secret and login, output
        me = httpx.get(
            server.url + "/v1/investors/me", headers=basic_auth(client_id.group(1), client_secret.group(1))
        )
        assert me.status_code == 200
        assert me.json()["name"]
        with httpx.Client(base_url=server.url, follow_redirects=True, timeout=10) as http:
            page = web_sign_in(http, login.group(1), login.group(2))
            assert page.status_code == 200 and page.url.path == "/"  # the dashboard
            assert client_id.group(1) in http.get("/integrations").text
        assert interrupt(server) == 0  # Ctrl-C stops it cleanly
        assert "Traceback" not in server.log()
    finally:
        if server.process.poll() is None:
            stop_server(server)
        databases.drop(url)


def test_two_workers_refuse_a_key_revoked_from_the_cli_within_a_second(
    ctx, database_url, databases, tmp_path
):
    if databases.is_postgres:
        assert database_url.startswith("postgresql://")  # a plain URL, mapped to the driver by the server
    holder = create_investor(ctx)
    server = start_server(
        database_url, tmp_path, workers=2, extra_env={"SPIKO_METRICS_ALLOWED_ADDRESSES": "127.0.0.1"}
    )
    try:
        headers = basic_auth(holder.client_id, holder.client_secret)

        # No keep-alive, several at a time: new connections that both workers accept.
        http = httpx.Client(timeout=5, limits=httpx.Limits(max_keepalive_connections=0))
        pool = ThreadPoolExecutor(max_workers=8)

        def call(_: int = 0) -> int:
            return http.get(server.url + "/v1/investors/me", headers=headers).status_code

        def burst(count: int = 16) -> list[int]:
            return list(pool.map(call, range(count)))

        def pids_answering(status: int) -> set[int]:
            time.sleep(0.7)  # the access log is written in batches
            return {
                e["pid"]
                for e in log_entries(server.log())
                if e.get("route") == "/v1/investors/me" and e["status"] == status
            }

        warmed = 0
        while warmed < 20:
            assert set(burst()) == {200}
            warmed += 1
            if len(pids_answering(200)) == 2:
                break
        warm_pids = pids_answering(200)
        assert len(warm_pids) == 2, "the requests did not reach both workers"
        sent_before = warmed * 16

        revoke = run_cli(database_url, "api-keys", "revoke", holder.client_id, cwd=tmp_path)
        assert revoke.returncode == 0, revoke.stderr
        revoked_at = time.monotonic()
        outcomes: list[tuple[float, int]] = []
        # Each outcome is stamped with when its burst *began*: a worker's cached entry expires one
        # second after its read began, and that read began before the revocation committed, so
        # every request sent a second or more after ``revoked_at`` must be refused, by every
        # worker, however slowly the machine answers.
        while time.monotonic() - revoked_at < 10:
            began = time.monotonic() - revoked_at
            outcomes += [(began, status) for status in burst(8)]
            late = [status for elapsed, status in outcomes if elapsed >= 1.0]
            if len(late) >= 48:
                break
        accepted = [elapsed for elapsed, status in outcomes if status == 200]
        assert not accepted or max(accepted) < 1.0, f"accepted {max(accepted):.2f} s after revocation"
        late = [status for elapsed, status in outcomes if elapsed >= 1.0]
        assert len(late) >= 16 and set(late) == {401}
        statuses = [status for _, status in outcomes]
        assert pids_answering(401) == warm_pids  # every worker refuses it

        # /metrics sums the workers: every request made above is counted, whichever worker answers.
        metrics = httpx.get(server.url + "/metrics").text
        counted = sum(
            float(value)
            for value in re.findall(
                r'spiko_http_requests_total\{method="GET",route="/v1/investors/me",status="\d+"\} (\S+)',
                metrics,
            )
        )
        assert counted == sent_before + len(statuses)
        pool.shutdown()
        http.close()
        assert interrupt(server) == 0
    finally:
        if server.process.poll() is None:
            stop_server(server)


def test_logs_are_json_with_request_ids_and_never_carry_a_secret(ctx, database_url, tmp_path):
    person = create_investor(ctx)
    server = start_server(database_url, tmp_path)
    secrets: list[str] = [person.password, person.client_secret]
    try:
        with httpx.Client(base_url=server.url, follow_redirects=True, timeout=10) as http:
            assert web_sign_in(http, person.email, "a wrong password").status_code == 400
            page = web_sign_in(http, person.email, person.password)
            assert page.status_code == 200
            secrets += [http.cookies.get("spiko_session"), http.cookies.get("spiko_csrf")]
            token = CSRF_RE.search(page.text).group(1)
            secrets.append(token)
            created = http.post("/integrations", data={"name": "logged?", "csrf_token": token})
            new_id = CLIENT_ID_RE.search(created.text).group(1)
            new_secret = SECRET_RE.search(created.text).group(1)
            secrets.append(new_secret)
            for client_id, secret in ((person.client_id, person.client_secret), (new_id, new_secret)):
                authorization = basic_auth(client_id, secret)["Authorization"]
                secrets.append(authorization.split()[1])
                response = http.get(
                    "/v1/investors/me",
                    headers={"Authorization": authorization, "X-Request-ID": "log-check-0001"},
                )
                assert response.status_code == 200
            wrong = basic_auth(new_id, new_secret[:-2] + "xx")["Authorization"]
            secrets.append(wrong.split()[1])
            assert http.get("/v1/investors/me", headers={"Authorization": wrong}).status_code == 401
            bearer = "eyJhbGciOiJSUzI1NiJ9.forged-token-value.signature"
            secrets.append(bearer)
            assert (
                http.get("/v1/investors/me", headers={"Authorization": "Bearer " + bearer}).status_code == 401
            )
            # A secret smuggled into a query string does not reach the log either.
            assert http.get("/healthz", params={"client_secret": new_secret}).status_code == 200
    finally:
        stop_server(server)  # flushes the buffered access log
    log = server.log()
    entries = log_entries(log)
    assert entries, log
    assert all("request_id" in entry and "level" in entry for entry in entries)
    assert any(entry.get("request_id") == "log-check-0001" for entry in entries)
    assert any(entry.get("msg") == "sign-in" for entry in entries)
    for secret in secrets:
        assert secret and secret not in log, "a secret reached the log"
    for encoded in {base64.b64encode(s.encode()).decode() for s in secrets if s}:
        assert encoded not in log
    assert "authorization" not in log.lower()
