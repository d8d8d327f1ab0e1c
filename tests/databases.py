"""Fresh databases for tests, on SQLite or PostgreSQL (chosen by SPIKO_TEST_DATABASE).

The schema is migrated once into a template; every test then gets its own copy (a file copy
on SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL), so tests never share rows.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

BACKEND = os.environ.get("SPIKO_TEST_DATABASE", "sqlite").lower()
POSTGRES_ADMIN_URL = os.environ.get("SPIKO_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _pg_url(name: str) -> str:
    base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
    return f"{base}/{name}"


def _pg_admin():  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True)


class DatabaseFactory:
    def __init__(self, workdir: Path) -> None:
        from spiko.db.migrate import upgrade

        self.workdir = workdir
        self.suffix = uuid.uuid4().hex[:10]
        self.created: list[str] = []
        if BACKEND == "sqlite":
            self.template = workdir / "template.db"
            upgrade(f"sqlite:///{self.template}")
        elif BACKEND in ("postgresql", "postgres"):
            self.template_name = f"spiko_tpl_{self.suffix}"
            with _pg_admin() as admin:
                admin.execute(f'CREATE DATABASE "{self.template_name}"')
            upgrade(_pg_url(self.template_name))
        else:
            raise RuntimeError(f"unknown SPIKO_TEST_DATABASE={BACKEND!r}")

    @property
    def is_postgres(self) -> bool:
        return BACKEND != "sqlite"

    def fresh(self) -> str:
        if BACKEND == "sqlite":
            path = self.workdir / f"t_{uuid.uuid4().hex[:12]}.db"
            shutil.copyfile(self.template, path)
            return f"sqlite:///{path}"
        name = f"spiko_t_{self.suffix}_{uuid.uuid4().hex[:8]}"
        with _pg_admin() as admin:
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template_name}"')
        self.created.append(name)
        return _pg_url(name)

    def empty(self) -> str:
        """A database with no schema at all (for migration tests)."""
        if BACKEND == "sqlite":
            return f"sqlite:///{self.workdir / f'empty_{uuid.uuid4().hex[:12]}.db'}"
        name = f"spiko_e_{self.suffix}_{uuid.uuid4().hex[:8]}"
        with _pg_admin() as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return _pg_url(name)

    def drop(self, url: str) -> None:
        if BACKEND == "sqlite":
            return
        name = url.rpartition("/")[2]
        with _pg_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if name in self.created:
            self.created.remove(name)

    def close(self) -> None:
        if BACKEND == "sqlite":
            return
        with _pg_admin() as admin:
            for name in [*self.created, self.template_name]:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
