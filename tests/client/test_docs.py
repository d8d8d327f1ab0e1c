"""docs/sdk.md's quickstarts run as written against a real server, and docs/sdk-reference.md is
generated from the current docstrings."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import re
import shlex
import sys
import webbrowser
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from spiko.cli import main
from tests.client.browser import Browser
from tests.client.conftest import Server, live
from tests.client.test_cli import browser_that_consents
from tests.conftest import TEST_SECRET_KEY, InvestorFixture, free_port
from tests.world import World


@pytest.fixture(scope="module")
def server(databases, tmp_path_factory) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    """A real server: the guide's code runs as written, over the network."""
    yield from live(databases, tmp_path_factory.mktemp("server"))


ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "sdk.md"


def sections() -> dict[str, list[tuple[str, str]]]:
    """Each '## ' section's fenced code blocks, as (language, code)."""
    found: dict[str, list[tuple[str, str]]] = {}
    for section in re.split(r"^## ", GUIDE.read_text(), flags=re.M)[1:]:
        title, _, body = section.partition("\n")
        # The language is the info string's first word (``sh runnable``: sh).
        found[title.strip()] = re.findall(r"^```(\w*)[^\n]*\n(.*?)^```", body, flags=re.M | re.S)
    return found


def section(prefix: str, port: int | None = None) -> list[tuple[str, str]]:
    """A section's blocks; with ``port``, the loopback port 8765 replaced by that one (so that
    concurrent test runs do not compete for it)."""
    matches = [blocks for title, blocks in sections().items() if title.startswith(prefix)]
    assert len(matches) == 1, prefix
    if port is None:
        return matches[0]
    moved = [(language, code.replace("127.0.0.1:8765", f"127.0.0.1:{port}")) for language, code in matches[0]]
    return [(language, code.replace("--port 8765", f"--port {port}")) for language, code in moved]


def run_shell(code: str) -> list[Any]:
    """Run a bash block's ``spiko`` lines (``export`` lines are the reader's own values: the test
    sets the environment itself); the JSON each command printed."""
    outputs = []
    for line in code.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "export ")):
            continue
        argv = shlex.split(os.path.expandvars(line))
        assert argv[0] == "spiko", line
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code_ = main(argv[1:])
        assert code_ == 0, (line, err.getvalue())
        text = out.getvalue().strip()
        outputs.append(json.loads(text) if text else None)
    return outputs


def run_python(code: str, **names: Any) -> str:
    """Execute a python block as a script; what it printed."""
    out = io.StringIO()
    namespace: dict[str, Any] = {"__name__": "__main__", **names}
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(GUIDE), "exec"), namespace)  # noqa: S102 - the documentation's own code
    return out.getvalue()


@pytest.fixture
def environment(server: Server, market: World, tmp_path, monkeypatch) -> World:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SPIKO_URL", server.url)
    monkeypatch.setenv("SPIKO_DATABASE_URL", server.database_url)
    monkeypatch.setenv("SPIKO_SECRET_KEY", TEST_SECRET_KEY)
    monkeypatch.setenv("SPIKO_ISSUER", server.url)
    monkeypatch.setenv("SPIKO_TOKEN_FILE", str(tmp_path / "config" / "token.json"))
    return market


def use_key(monkeypatch, investor: InvestorFixture) -> None:
    monkeypatch.setenv("SPIKO_CLIENT_ID", investor.client_id)
    monkeypatch.setenv("SPIKO_CLIENT_SECRET", investor.client_secret)


def test_api_key_quickstart_runs_as_written(server: Server, environment: World, monkeypatch):
    investor = server.investor("Quickstart Treasury SAS")
    use_key(monkeypatch, investor)
    blocks = section("Quickstart with an API key")
    assert [language for language, _ in blocks] == ["sh", "python"]
    run_shell(blocks[0][1])
    printed = run_python(blocks[1][1])
    assert "Signed in as Quickstart Treasury SAS" in printed
    assert re.search(r"Wire EUR to \S+ quoting [0-9A-Z]{5,15}", printed)
    assert "10000.00 EUR pending" in printed


def test_oauth_quickstarts_run_as_written(server: Server, environment: World, monkeypatch):
    investor = server.investor("OAuth Quickstart SAS")

    port = free_port()
    command_line = section("Quickstart with OAuth 2.0, from the command line", port)
    assert all("8765" not in code for _, code in command_line)
    register, login = [code for language, code in command_line if language == "sh"]
    (app,) = run_shell(register)
    monkeypatch.setenv("SPIKO_APP_ID", app["client_id"])
    monkeypatch.setenv("SPIKO_APP_SECRET", app["client_secret"])
    monkeypatch.setattr(webbrowser, "open", browser_that_consents(server, investor, []))
    signed_in, whoami = run_shell(login)
    assert Path(signed_in["token_file"]).stat().st_mode & 0o777 == 0o600
    assert whoami["id"] == investor.investor_id

    (stored_token_code,) = [code for language, code in command_line if language == "python"]
    assert "OAuth Quickstart SAS" in run_python(stored_token_code)

    # The third-party app: the investor already consented to this app, so the browser comes straight back.
    (app_code,) = [
        code for language, code in section("Quickstart with OAuth 2.0, in a third-party app", port)
    ]

    def investor_in_a_browser(prompt: str) -> str:
        url = re.search(r"allow access: (\S+)", printed_so_far())
        assert url, "the quickstart printed no authorization URL"
        browser = Browser(server.url)
        try:
            browser.sign_in(investor.email, investor.password)
            return browser.authorize(url.group(1))
        finally:
            browser.close()

    output = run_python(app_code, input=investor_in_a_browser)
    assert "Access token valid until" in output
    assert output.rstrip().endswith("OAuth Quickstart SAS")
    assert (Path.cwd() / "spiko-token.json").stat().st_mode & 0o777 == 0o600


def printed_so_far() -> str:
    """What the running quickstart has printed so far (its stdout is a StringIO)."""
    return sys.stdout.getvalue() if isinstance(sys.stdout, io.StringIO) else ""


def test_asyncio_example_runs_as_written(server: Server, environment: World, monkeypatch):
    investor = server.investor("Async Quickstart SAS")
    use_key(monkeypatch, investor)
    with server.client(investor) as client:
        client.accounts.create(environment.id("EUTBL"), name="Async account")
    (code,) = [code for language, code in section("Asyncio") if language == "python"]
    printed = run_python(code)
    assert "Async Quickstart SAS ['Async account']" in printed


def test_sdk_reference_is_up_to_date():
    spec = importlib.util.spec_from_file_location(
        "gen_sdk_reference", ROOT / "scripts" / "gen_sdk_reference.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (ROOT / "docs" / "sdk-reference.md").read_text() == module.render(), (
        "docs/sdk-reference.md is stale: run python scripts/gen_sdk_reference.py"
    )
