"""Fresh databases for tests, on SQLite or PostgreSQL (chosen by SPIKO_TEST_DATABASE).

The schema is migrated once into a template; every test then gets a database of its own with that
schema and no rows, so tests never share rows. On SQLite it is a copy of the template file. On
PostgreSQL it is a database an earlier test of this process released, emptied (a few milliseconds),
or else a copy of the template (``CREATE DATABASE ... TEMPLATE``, a second or more on a busy
machine). A released database whose schema is no longer the template's is dropped, not reused.
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
        self.spare: list[str] = []  # PostgreSQL databases released by earlier tests, emptied
        self.reusable: set[str] = set()  # the ones ``fresh`` made (never ``empty``'s)
        if BACKEND == "sqlite":
            self.template = workdir / "template.db"
            upgrade(f"sqlite:///{self.template}")
        elif BACKEND in ("postgresql", "postgres"):
            self.template_name = f"spiko_tpl_{self.suffix}"
            with _pg_admin() as admin:
                admin.execute(f'CREATE DATABASE "{self.template_name}"')
            upgrade(_pg_url(self.template_name))
            self.schema = self._schema(self.template_name)
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
        if self.spare:
            return _pg_url(self.spare.pop())
        name = f"spiko_t_{self.suffix}_{uuid.uuid4().hex[:8]}"
        with _pg_admin() as admin:
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template_name}"')
        self.created.append(name)
        self.reusable.add(name)
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
        """Release a database: a PostgreSQL one ``fresh`` made is emptied for the next test."""
        if BACKEND == "sqlite":
            return
        name = url.rpartition("/")[2]
        if name in self.reusable and self._emptied(name):
            self.spare.append(name)
            return
        self.reusable.discard(name)
        with _pg_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if name in self.created:
            self.created.remove(name)

    @staticmethod
    def _schema(name: str) -> tuple[object, ...]:
        """What must match the template's for a database to be reused: the migration and the tables."""
        import psycopg

        with psycopg.connect(_pg_url(name), autocommit=True) as connection:
            version = connection.execute("SELECT version_num FROM alembic_version").fetchall()
            tables = connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            ).fetchall()
        return (tuple(version), tuple(tables))

    def _emptied(self, name: str) -> bool:
        """Close every connection to the database and delete its rows; False if it cannot be reused."""
        import psycopg

        with _pg_admin() as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
        try:
            if self._schema(name) != self.schema:
                return False
            tables = [table for (table,) in self.schema[1] if table != "alembic_version"]
            with psycopg.connect(_pg_url(name)) as connection:
                connection.execute("SET LOCAL lock_timeout = '10s'")
                # Rows only: no trigger or foreign-key check fires (they would find nothing to do).
                connection.execute("SET LOCAL session_replication_role = replica")
                for table in tables:
                    connection.execute(f'DELETE FROM "{table}"')
                sequences = connection.execute(
                    "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
                ).fetchall()
                for (sequence,) in sequences:
                    connection.execute(f'ALTER SEQUENCE "{sequence}" RESTART')
        except psycopg.Error:
            return False
        return True

    def close(self) -> None:
        if BACKEND == "sqlite":
            return
        with _pg_admin() as admin:
            for name in [*self.created, self.template_name]:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
