"""docs/production.md's backup and restore, run as written: a database and its secret-key file are
backed up, restored into a new database in another folder, and an API key created before the
backup still works against a server on the restored copy (and not without the key file)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import basic_auth, free_port
from tests.databases import POSTGRES_ADMIN_URL, DatabaseFactory, _pg_url

pytestmark = pytest.mark.server


def operator_env(settings: dict[str, str]) -> dict[str, str]:
    """An operator's shell: no SPIKO_* variable but the settings given (the secret key comes from
    the key file, as on a host that never set SPIKO_SECRET_KEY)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("SPIKO_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return {**env, **settings}


def sh(command: str, cwd: Path, settings: dict[str, str]) -> str:
    result = subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + command],
        cwd=cwd,
        env=operator_env(settings),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result.stdout


class Server:
    def __init__(self, folder: Path, settings: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = folder.parent / f"{folder.name}-{self.port}.log"
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "spiko.cli", "serve", "--port", str(self.port)],
                cwd=folder,
                env=operator_env(settings),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 180
        while True:
            assert self.process.poll() is None, self.log_path.read_text()
            assert time.monotonic() < deadline, self.log_path.read_text()
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)

    def me(self, client_id: str, client_secret: str) -> httpx.Response:
        return httpx.get(
            self.url + "/v1/investors/me", headers=basic_auth(client_id, client_secret), timeout=10
        )

    def stop(self) -> None:
        self.process.terminate()
        assert self.process.wait(timeout=30) == 0, self.log_path.read_text()


@pytest.fixture
def stopped() -> Iterator[list[Server]]:
    servers: list[Server] = []
    yield servers
    for server in servers:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()


def test_a_restored_backup_with_its_secret_key_keeps_api_keys_working(
    databases: DatabaseFactory, tmp_path: Path, stopped: list[Server]
):
    live, backups, restored = (tmp_path / name for name in ("live", "backups", "restored"))
    for folder in (live, backups, restored):
        folder.mkdir()
    to_drop: list[str] = []
    try:
        if databases.is_postgres:
            source = databases.empty()
            to_drop.append(source)
            target = _pg_url(f"spiko_restored_{uuid.uuid4().hex[:8]}")
            live_settings, restored_settings = {"SPIKO_DATABASE_URL": source}, {"SPIKO_DATABASE_URL": target}
            key_file = ".spiko-secret-key"  # in the server's working folder
        else:
            live_settings = restored_settings = {}  # ./spiko.db in each folder, the default
            key_file = "spiko.db.secret-key"  # next to the database

        # The live installation: a database, its generated key file, an investor and a key.
        assert json.loads(sh("spiko db upgrade", live, live_settings)) == {}
        assert (live / key_file).stat().st_mode & 0o777 == 0o600
        sh(
            "spiko investors create --name 'Backed Up SAS' --email backup@example.com "
            "--password 'a long passphrase'",
            live,
            live_settings,
        )
        key = json.loads(sh("spiko api-keys create --email backup@example.com", live, live_settings))
        server = Server(live, live_settings)
        stopped.append(server)
        assert server.me(key["client_id"], key["client_secret"]).status_code == 200

        # The backup, while the server runs (production.md, "Backup and restore").
        if databases.is_postgres:
            sh(f"pg_dump --format=custom --file={backups}/spiko.dump '{source}'", live, {})
        else:
            sh(f"sqlite3 spiko.db \".backup '{backups}/spiko.db'\"", live, {})
        sh(f"cp -p {key_file} {backups}/", live, {})
        server.stop()

        # The restore, into a new database in another folder.
        if databases.is_postgres:
            admin = POSTGRES_ADMIN_URL.rpartition("/")[0]
            name = target.rpartition("/")[2]
            sh(
                f"psql '{POSTGRES_ADMIN_URL}' -v ON_ERROR_STOP=1 -c 'CREATE DATABASE \"{name}\"'",
                restored,
                {},
            )
            to_drop.append(target)
            sh(f"pg_restore --no-owner --dbname='{admin}/{name}' {backups}/spiko.dump", restored, {})
        else:
            sh(f"cp {backups}/spiko.db spiko.db", restored, {})

        # Without its secret key, the restored database is refused by the CLI, and a server would
        # generate a new key under which the old API key no longer matches.
        without_key = subprocess.run(
            [sys.executable, "-m", "spiko.cli", "api-keys", "list", "--email", "backup@example.com"],
            cwd=restored,
            env=operator_env(restored_settings),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert without_key.returncode == 1 and "no secret key" in without_key.stderr

        sh(f"cp -p {backups}/{key_file} {key_file}", restored, {})
        assert json.loads(sh("spiko db upgrade", restored, restored_settings)) == {}
        listed = json.loads(sh("spiko api-keys list --email backup@example.com", restored, restored_settings))
        assert [entry["client_id"] for entry in listed] == [key["client_id"]]
        server = Server(restored, restored_settings)
        stopped.append(server)
        answer = server.me(key["client_id"], key["client_secret"])
        assert answer.status_code == 200 and answer.json()["name"] == "Backed Up SAS"
        server.stop()

        # The key file is what makes it work: the same restore with another secret refuses the key.
        other = Server(restored, {**restored_settings, "SPIKO_SECRET_KEY": "another-secret-" + "y" * 40})
        stopped.append(other)
        assert other.me(key["client_id"], key["client_secret"]).status_code == 401
        other.stop()
    finally:
        for url in to_drop:
            databases.drop(url)
        shutil.rmtree(tmp_path, ignore_errors=True)
