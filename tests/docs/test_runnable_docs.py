"""Every documented step marked runnable runs as written against a demo server.

The convention (docs/README.md): a fenced block whose info string is ``sh runnable`` or
``python runnable`` is a step a reader can run, in order, against ``spiko serve --demo`` started
in an empty folder, with the printed key in ``$KEY``. This test does exactly that: one demo server
on its own database (SQLite in its folder, or a new PostgreSQL database, as the suite's backend
says), and one bash process per page running that page's runnable blocks in document order (so
a block can use what an earlier one set), python blocks through ``python3``.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.databases import DatabaseFactory

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
DOCUMENTED_ADDRESS = "127.0.0.1:8000"  # where the docs say the demo listens
FENCE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>```+)(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=indent)(?P=fence)[ \t]*$",
    re.M | re.S,
)
KINDS = {"sh runnable": "sh", "python runnable": "python"}
MARK = "@@spiko-docs-block"


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    kind: str  # "sh" | "python"
    code: str

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks_of(page: Path) -> list[Block]:
    """The page's runnable blocks, in document order, dedented when they sit in a list item."""
    text = page.read_text()
    found = []
    for match in FENCE.finditer(text):
        kind = KINDS.get(" ".join(match["info"].split()))
        if kind is None:
            continue
        indent = match["indent"]
        lines = match["body"].splitlines()
        code = "\n".join(line[len(indent) :] if line.startswith(indent) else line for line in lines)
        found.append(Block(page, text.count("\n", 0, match.start()) + 1, kind, code + "\n"))
    return found


def script_of(blocks: list[Block], port: int) -> str:
    """One bash script: each block announced on stderr, then run; python blocks as heredocs."""
    parts = [
        "set -euo pipefail",
        # An error answer fails the step (the reader would see it); the body is still printed.
        'curl() { command curl --silent --show-error --fail-with-body "$@"; }',
    ]
    for number, block in enumerate(blocks):
        code = block.code.replace(DOCUMENTED_ADDRESS, f"127.0.0.1:{port}")
        parts.append(f"echo '{MARK} {number} {block.where}' >&2")
        if block.kind == "python":
            assert "SPIKO_DOCS_PYTHON" not in code
            parts.append(f"python3 - <<'SPIKO_DOCS_PYTHON'\n{code}SPIKO_DOCS_PYTHON")
        else:
            parts.append(code)
        parts.append("echo")
    parts.append(f"echo '{MARK} end' >&2")
    return "\n".join(parts) + "\n"


def reader_environment(extra: dict[str, str]) -> dict[str, str]:
    """The reader's shell: no SPIKO_* setting but the ones given, the project's python and spiko first."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("SPIKO_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return {**env, **extra}


@dataclass
class Demo:
    folder: Path
    port: int
    key: str
    env: dict[str, str]  # what the reader has set to reach this demo's database (PostgreSQL only)


@pytest.fixture(scope="module")
def demo(databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    folder = tmp_path_factory.mktemp("reader")
    database_url = databases.empty() if databases.is_postgres else None
    # SQLite: the default ./spiko.db in the reader's folder, as the README's quick start has it.
    settings = {"SPIKO_DATABASE_URL": database_url} if database_url else {}
    home = folder / "home"
    home.mkdir()
    port = free_port()
    log_path = folder.parent / f"{folder.name}-server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "spiko.cli", "serve", "--demo", "--port", str(port)],
            cwd=folder,
            env=reader_environment({**settings, "HOME": str(home)}),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 180
        while True:
            assert process.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        output = log_path.read_text()
        client_id = re.search(r"^client_id: (\S+)$", output, flags=re.M)
        client_secret = re.search(r"^client_secret: (\S+)$", output, flags=re.M)
        assert client_id and client_secret, output
        key = f"{client_id.group(1)}:{client_secret.group(1)}"
        yield Demo(folder, port, key, {**settings, "HOME": str(home)})
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            assert process.wait(timeout=30) == 0, log_path.read_text()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            if database_url:
                databases.drop(database_url)


PAGES_WITH_STEPS = [page for page in PAGES if blocks_of(page)]


def test_the_convention_is_documented_and_used():
    assert "sh runnable" in (ROOT / "docs" / "README.md").read_text()
    # The README's tour and the guides for integrators and operators are checked, at the least.
    names = {str(page.relative_to(ROOT)) for page in PAGES_WITH_STEPS}
    expected = {"README.md", "docs/api-keys.md", "docs/orders.md", "docs/public-api.md", "docs/operations.md"}
    assert expected <= names
    # A floor, so that markers are not lost unnoticed: 29 blocks (81 commands and snippets) when
    # this test was written.
    assert sum(len(blocks_of(page)) for page in PAGES) >= 29


@pytest.mark.parametrize("page", PAGES_WITH_STEPS, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_runnable_step_runs_as_written(page: Path, demo: Demo):
    blocks = blocks_of(page)
    env = reader_environment({**demo.env, "KEY": demo.key})
    result = subprocess.run(
        ["bash", "-c", script_of(blocks, demo.port)],
        cwd=demo.folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    started = re.findall(rf"^{MARK} (\S+)", result.stderr, flags=re.M)
    if result.returncode != 0:
        failed = blocks[int(started[-1])] if started and started[-1] != "end" else None
        pytest.fail(
            f"step at {failed.where if failed else '?'} failed (exit {result.returncode}):\n"
            f"{failed.code if failed else ''}\n--- stdout (end)\n{result.stdout[-3000:]}\n"
            f"--- stderr (end)\n{result.stderr[-3000:]}"
        )
    assert started == [*map(str, range(len(blocks))), "end"], "not every block ran"
