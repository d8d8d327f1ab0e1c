"""Migrations: they build the whole schema on an empty database, and the models match them."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from spiko.config import normalize_database_url
from spiko.db import models  # noqa: F401  (registers every table)
from spiko.db.base import Base
from spiko.db.engine import make_engine
from spiko.db.migrate import current_heads, upgrade


@pytest.fixture
def empty_url(databases):
    url = databases.empty()
    yield url
    databases.drop(url)


def test_upgrade_head_on_an_empty_database_creates_every_table(empty_url):
    upgrade(empty_url)
    engine = create_engine(normalize_database_url(empty_url))
    try:
        tables = set(inspect(engine).get_table_names())
        with engine.connect() as connection:
            version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    finally:
        engine.dispose()
    assert set(Base.metadata.tables) <= tables
    assert [version] == current_heads(empty_url)


def test_the_migration_chain_is_linear():
    assert len(current_heads("sqlite://")) == 1


def test_models_match_the_migrations(empty_url):
    """Autogenerate finds nothing to do: every model change has its migration."""
    upgrade(empty_url)
    engine = make_engine(empty_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={"compare_type": True, "compare_server_default": False, "render_as_batch": True},
            )
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == [], "models and migrations differ:\n" + "\n".join(map(str, differences))


def test_sqlite_runs_in_wal_mode_with_foreign_keys(databases, database_url):
    if databases.is_postgres:
        pytest.skip("SQLite pragmas")
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


def test_a_plain_postgresql_url_is_mapped_to_psycopg_3():
    assert normalize_database_url("postgresql://u@h:5432/db") == "postgresql+psycopg://u@h:5432/db"
    assert normalize_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_database_url("sqlite:///./spiko.db") == "sqlite:///./spiko.db"
    assert make_engine("postgresql://u@127.0.0.1:1/db").dialect.driver == "psycopg"
