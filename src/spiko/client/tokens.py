"""Keeping an OAuth token on disk, readable by its owner only (mode 0600)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

DEFAULT_TOKEN_FILE = Path("~/.config/spiko/token.json")


def default_token_path() -> Path:
    """``$SPIKO_TOKEN_FILE``, else ``~/.config/spiko/token.json``."""
    return Path(os.environ.get("SPIKO_TOKEN_FILE") or DEFAULT_TOKEN_FILE).expanduser()


class TokenFile:
    """A JSON file holding a token (and what is needed to refresh it); pass ``save`` as ``on_token``."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path).expanduser() if path is not None else default_token_path()

    def load(self) -> dict[str, Any] | None:
        """The stored document, or None when there is none."""
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return None
        return data if isinstance(data, dict) else None

    def save(self, document: dict[str, Any]) -> None:
        """Replace the file atomically; it is created with mode 0600 and never readable by others."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(document, handle, indent=2, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temporary, 0o600)
            os.replace(temporary, self.path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
