"""Alembic environment: runs migrations on the connection or URL that ``spiko.db.migrate`` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from spiko.db import models  # noqa: F401  (registers every table)
from spiko.db.base import Base
from spiko.db.engine import make_engine

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("Alembic was given neither a connection nor sqlalchemy.url")
    engine = make_engine(url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
