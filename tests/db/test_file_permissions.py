"""Files the server creates that hold secrets are its owner's only (0600), whatever the umask."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from spiko.config import Settings, load_or_create_secret_key
from spiko.context import AppContext
from spiko.db.migrate import upgrade
from spiko.services import identity


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def permissive_umask():  # type: ignore[no-untyped-def]
    previous = os.umask(0o022)  # the usual default: files readable by everyone
    yield
    os.umask(previous)


def test_a_new_sqlite_database_and_its_journal_are_private(tmp_path: Path, permissive_umask: None) -> None:
    database = tmp_path / "spiko.db"
    url = f"sqlite:///{database}"
    upgrade(url)
    ctx = AppContext(Settings(database_url=url, secret_key="k" * 48))
    try:
        with ctx.transaction() as session:
            identity.create_investor(
                session, name="Private SAS", email="p@example.com", password="long password 1"
            )
        files = [database, tmp_path / "spiko.db-wal", tmp_path / "spiko.db-shm"]
        present = [path for path in files if path.exists()]
        assert database in present and len(present) >= 2  # WAL mode: the journal exists while open
        assert {path.name: _mode(path) for path in present} == {path.name: 0o600 for path in present}
    finally:
        ctx.close()


def test_the_generated_secret_key_file_is_private(tmp_path: Path, permissive_umask: None) -> None:
    load_or_create_secret_key(f"sqlite:///{tmp_path / 'spiko.db'}")
    (key_file,) = tmp_path.glob("*.secret-key")
    assert _mode(key_file) == 0o600


def test_an_existing_database_keeps_the_mode_its_operator_gave_it(tmp_path: Path) -> None:
    database = tmp_path / "shared.db"
    database.touch(mode=0o640)
    os.chmod(database, 0o640)
    upgrade(f"sqlite:///{database}")
    assert _mode(database) == 0o640
