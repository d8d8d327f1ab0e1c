"""Shared fixtures: a fresh database per test, the app, a client, investors and API keys."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import settings as hypothesis_settings

warnings.filterwarnings("ignore", message=".*httpx2.*")

from fastapi.testclient import TestClient  # noqa: E402

from spiko.app import create_app  # noqa: E402
from spiko.config import Settings  # noqa: E402
from spiko.context import AppContext  # noqa: E402
from tests.app_transport import AppTransport  # noqa: E402
from tests.databases import DatabaseFactory  # noqa: E402
from tests.world import InvestorFixture, basic_auth, create_investor  # noqa: E402, F401 - shared helpers

TEST_SECRET_KEY = "test-secret-key-" + "x" * 32

# Property tests judge results, not speed: on a shared, loaded machine one example may take longer
# than Hypothesis's default 200 ms deadline without anything being wrong.
hypothesis_settings.register_profile("spiko", deadline=None)
hypothesis_settings.load_profile("spiko")


@pytest.fixture(scope="session", autouse=True)
def mail_outbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Mail the app sends without an SMTP server lands here, not in the folder the tests run from."""
    folder = tmp_path_factory.mktemp("outbox")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("spiko.mail.DEFAULT_OUTBOX", str(folder))
        yield folder


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(tmp_path_factory.mktemp("databases"))
    yield factory
    factory.close()


@pytest.fixture
def database_url(databases: DatabaseFactory) -> Iterator[str]:
    url = databases.fresh()
    yield url
    databases.drop(url)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, issuer="http://testserver", secret_key=TEST_SECRET_KEY)


@pytest.fixture
def ctx(settings: Settings) -> Iterator[AppContext]:
    context = AppContext(settings)
    yield context
    context.close()


@pytest.fixture
def app(ctx: AppContext):  # type: ignore[no-untyped-def]
    return create_app(ctx=ctx)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, raise_server_exceptions=False, base_url="http://testserver") as test_client:
        yield test_client


@pytest.fixture
def app_transport(app) -> Iterator[AppTransport]:  # type: ignore[no-untyped-def]
    """The test's app served in-process to any httpx client given it as ``transport``."""
    transport = AppTransport(app)
    yield transport
    transport.shutdown()


@pytest.fixture
def client_with(settings: Settings):  # type: ignore[no-untyped-def]
    """A factory of test clients on the same database, each its own app with some settings changed."""
    opened: list[tuple[TestClient, AppContext]] = []

    def make(base_url: str = "http://testserver", **overrides: object) -> TestClient:
        context = AppContext(settings.with_overrides(**overrides))
        test_client = TestClient(create_app(ctx=context), raise_server_exceptions=False, base_url=base_url)
        test_client.__enter__()
        opened.append((test_client, context))
        return test_client

    yield make
    for test_client, context in opened:
        test_client.__exit__(None, None, None)
        context.close()


@pytest.fixture
def investor(ctx: AppContext) -> InvestorFixture:
    return create_investor(ctx, name="Alice Treasury SAS")


@pytest.fixture
def other_investor(ctx: AppContext) -> InvestorFixture:
    return create_investor(ctx, name="Mallory Holdings")


@dataclass
class CliRun:
    """What a ``spiko`` command did: its exit code and what it printed (as ``subprocess.run`` says it)."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        """The JSON the command printed on stdout (``None`` if it printed nothing)."""
        return json.loads(self.stdout) if self.stdout.strip() else None


@contextlib.contextmanager
def environment(variables: dict[str, str]) -> Iterator[None]:
    """``os.environ`` with ``variables`` set, restored whole afterwards (whatever was set meanwhile,
    by a ``.env`` file the command read for one, is gone)."""
    saved = dict(os.environ)
    os.environ.update(variables)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run_cli(
    database_url: str, *args: str, cwd: Path | None = None, extra_env: dict[str, str] | None = None
) -> CliRun:
    """``spiko ARGS…`` as an operator runs it, on the test database (in ``cwd``): run in this process
    through ``spiko.cli.main`` (what the installed ``spiko`` script calls), its output captured and its
    exit status returned, a usage error's ``SystemExit`` included. ``run_process`` runs the real
    process, for the tests where the process is the point."""
    from spiko.cli import main

    variables = {"SPIKO_DATABASE_URL": database_url, "SPIKO_SECRET_KEY": TEST_SECRET_KEY, **(extra_env or {})}
    out, err = io.StringIO(), io.StringIO()
    with (
        environment(variables),
        contextlib.chdir(cwd) if cwd else contextlib.nullcontext(),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        try:
            code = main(list(args))
        except SystemExit as exit:  # argparse: --help, usage errors
            code = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
    return CliRun(list(args), code, out.getvalue(), err.getvalue())


def run_process(
    database_url: str, *args: str, cwd: Path, extra_env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``spiko ARGS…`` in a process of its own (``python -m spiko.cli``), on the test database."""
    env = {
        **os.environ,
        "SPIKO_DATABASE_URL": database_url,
        "SPIKO_SECRET_KEY": TEST_SECRET_KEY,
        **(extra_env or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "spiko.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_server(
    database_url: str,
    tmp_path: Path,
    *,
    workers: int = 1,
    extra_env: dict[str, str] | None = None,
    extra_args: list[str] | None = None,
    host_name: str = "127.0.0.1",
) -> LiveServer:
    """A real server on 127.0.0.1; ``host_name`` is the name its issuer and URL use (``localhost``
    for passkeys, whose relying-party id cannot be an IP address)."""
    port = free_port()
    env = {
        **os.environ,
        "SPIKO_DATABASE_URL": database_url,
        "SPIKO_SECRET_KEY": TEST_SECRET_KEY,
        "SPIKO_ISSUER": f"http://{host_name}:{port}",
        **(extra_env or {}),
    }
    log_path = tmp_path / f"server-{port}.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "spiko.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
            *(extra_args or []),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
        start_new_session=True,  # its own process group: a failed start takes its workers with it
    )
    url = f"http://{host_name}:{port}"
    deadline = time.monotonic() + 120  # a generous bound: a loaded machine starts Python slowly
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log_path.read_text()}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return LiveServer(url, process, log_path, env)
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    _kill_group(process)
    raise RuntimeError(f"server did not start:\n{log_path.read_text()}")


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.process.wait(timeout=15)
    _kill_group(server.process)  # workers left behind by a supervisor that did not stop them


@pytest.fixture
def live_server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    server = start_server(database_url, tmp_path)
    yield server
    stop_server(server)
