"""SIGTERM and SIGINT stop ``spiko serve`` cleanly, with one worker or several: the request in
flight is answered, the buffered last-use times are written, and the exit code is 0."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
from sqlalchemy import select

from spiko.db.models.identity import ApiKey
from spiko.services.seed import seed_reference_data
from tests.conftest import TEST_SECRET_KEY, LiveServer, basic_auth, create_investor, free_port

pytestmark = pytest.mark.server


def start(database_url: str, tmp_path, workers: int, extra_env: dict[str, str]) -> LiveServer:
    """``spiko serve`` in a process of its own; several workers may take a while to start on a
    loaded machine, hence the generous bound (it only stops a start that hangs)."""
    port = free_port()
    env = {
        **os.environ,
        "SPIKO_DATABASE_URL": database_url,
        "SPIKO_SECRET_KEY": TEST_SECRET_KEY,
        "SPIKO_ISSUER": f"http://127.0.0.1:{port}",
        **extra_env,
    }
    log_path = tmp_path / f"server-{port}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "spiko.cli", "serve", "--port", str(port), "--workers", str(workers)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        assert process.poll() is None, log_path.read_text()
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return LiveServer(url, process, log_path, env)
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    process.wait()
    raise AssertionError(f"server did not start:\n{log_path.read_text()}")


def wait_for_exit(process: subprocess.Popen[bytes], timeout: float = 30) -> int:
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


@pytest.mark.parametrize(
    ("workers", "stop"),
    [(1, signal.SIGTERM), (1, signal.SIGINT), (2, signal.SIGTERM), (2, signal.SIGINT)],
    ids=["1-worker-SIGTERM", "1-worker-SIGINT", "2-workers-SIGTERM", "2-workers-SIGINT"],
)
def test_a_stop_signal_finishes_the_request_in_flight_writes_last_use_and_exits_0(
    workers, stop, ctx, database_url, tmp_path
):
    with ctx.transaction() as session:
        eutbl = seed_reference_data(session)["EUTBL"].id
    holder = create_investor(ctx)
    # Last use is written only at shutdown: the periodic flush would come after an hour.
    server = start(database_url, tmp_path, workers, {"SPIKO_API_KEY_LAST_USED_FLUSH_SECONDS": "3600"})
    try:
        body = json.dumps(
            {"type": "internal", "investorId": holder.investor_id, "shareClassId": eutbl, "name": "In flight"}
        ).encode()
        head = (
            "POST /v1/accounts HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Authorization: {basic_auth(holder.client_id, holder.client_secret)['Authorization']}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        port = int(server.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
            # Half the body: the request is in flight, its handler waiting for the rest.
            connection.sendall(head + body[:10])
            time.sleep(0.5)
            server.process.send_signal(stop)
            time.sleep(1.5)
            assert server.process.poll() is None, "the server quit with a request in flight"
            connection.sendall(body[10:])
            answer = b""
            while chunk := connection.recv(65536):
                answer += chunk
        status_line = answer.split(b"\r\n", 1)[0]
        assert status_line == b"HTTP/1.1 200 OK", answer[:500]
        assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["name"] == "In flight"

        assert wait_for_exit(server.process) == 0
        log = server.log()
        assert "Traceback" not in log
        assert "Spiko stopped" in log
    finally:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()

    with ctx.transaction(write=False) as session:
        last_used = session.scalar(select(ApiKey.last_used_at).where(ApiKey.client_id == holder.client_id))
    assert last_used is not None, "the buffered last use was not written at shutdown"
