"""Helpers shared by the command modules: the context and sub-command registration."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from spiko.config import Settings
from spiko.context import AppContext


@contextmanager
def context() -> Iterator[AppContext]:
    """A context on the configured database, migrated to the latest schema."""
    from spiko.db.migrate import upgrade

    settings = Settings.from_env()
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
