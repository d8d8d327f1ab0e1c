"""Commands of the orders area (registered by the issue that builds it)."""

from __future__ import annotations

from typing import Any


def register(commands: Any) -> None:
    return None
