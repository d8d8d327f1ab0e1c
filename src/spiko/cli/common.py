"""Helpers shared by the command modules: the context and sub-command registration."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from spiko.config import DEFAULT_DATABASE_URL, Settings, load_env_file, normalize_database_url
from spiko.context import AppContext


class MissingDatabase(LookupError):
    """The configured database (or its secret key) does not exist: a command other than ``serve``
    and ``db upgrade`` never creates one, since a new empty database is almost always a mistake
    (a command run from another folder, a mistyped URL)."""


def _where(url: str) -> str:
    """How the configured database was chosen, for the messages below."""
    if os.environ.get("SPIKO_DATABASE_URL"):
        return "SPIKO_DATABASE_URL"
    return f"SPIKO_DATABASE_URL is unset; the default is {DEFAULT_DATABASE_URL} in the current folder"


def require_existing_database(database_url: str) -> None:
    """Raise ``MissingDatabase`` unless the database exists and carries Spiko's schema."""
    from sqlalchemy import create_engine, inspect
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError

    url = make_url(normalize_database_url(database_url))
    hint = "create it with `spiko db upgrade` (or `spiko serve`), or point SPIKO_DATABASE_URL at yours"
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            return
        path = Path(url.database).resolve()
        if not path.is_file():
            raise MissingDatabase(f"no database at {path} ({_where(database_url)}): {hint}")
        shown = str(path)
    else:
        shown = make_url(database_url).render_as_string(hide_password=True)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            migrated = inspect(connection).has_table("alembic_version")
    except OperationalError as error:
        if "does not exist" in str(error):
            raise MissingDatabase(
                f"no database {shown} ({_where(database_url)}): create it (`createdb`, see "
                "docs/production.md), then run `spiko db upgrade`"
            ) from None
        raise
    finally:
        engine.dispose()
    if not migrated:
        raise MissingDatabase(f"the database {shown} has no Spiko schema ({_where(database_url)}): {hint}")


def require_secret_key(database_url: str) -> None:
    """Refuse to generate a secret key: a new one would not match the server's (every API key made
    with it would be refused)."""
    from spiko.config import _secret_key_file

    if os.environ.get("SPIKO_SECRET_KEY"):
        return
    path = _secret_key_file(database_url).resolve()
    if not path.is_file():
        raise MissingDatabase(
            f"no secret key: SPIKO_SECRET_KEY is unset and {path} does not exist; set SPIKO_SECRET_KEY "
            "to the server's, or run the command where the server keeps its key file"
        )


def existing_settings() -> Settings:
    """The settings of a database that exists already, with its secret key; never creates either."""
    load_env_file()
    database_url = os.environ.get("SPIKO_DATABASE_URL") or DEFAULT_DATABASE_URL
    require_existing_database(database_url)
    require_secret_key(database_url)
    return Settings.from_env()


@contextmanager
def context() -> Iterator[AppContext]:
    """A context on the configured, existing database, migrated to the latest schema."""
    from spiko.db.migrate import upgrade

    settings = existing_settings()
    upgrade(settings.database_url)
    ctx = AppContext(settings)
    try:
        yield ctx
    finally:
        ctx.close()


def group(commands: Any, name: str, help_text: str) -> Any:
    parser = commands.add_parser(name, help=help_text, description=help_text)
    return parser.add_subparsers(dest="action", required=True, metavar="ACTION")


def command(
    subcommands: Any, name: str, help_text: str, handler: Callable[[argparse.Namespace], Any]
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subcommands.add_parser(name, help=help_text, description=help_text)
    parser.set_defaults(handler=handler)
    return parser
