"""The register's world: the orders world (every share class on a Monday), with the CLI at hand."""

from __future__ import annotations

from tests.orders.conftest import cli, world  # noqa: F401  (fixtures)
