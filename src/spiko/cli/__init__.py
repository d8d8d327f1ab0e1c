"""The ``spiko`` command: thin entry points over the services.

Every command prints its result as one JSON object (or array) on stdout, ``{}`` when there is
nothing else to say; human-readable messages go to stderr; errors exit non-zero with a one-line
explanation.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, NoReturn

from spiko.cli import audit, funds, identity, members, oauth, orders, sdk, server, worker

REGISTRARS: list[Callable[[Any], None]] = [
    server.register,
    identity.register,
    members.register,
    oauth.register,
    funds.register,
    orders.register,
    audit.register,
    sdk.register,
    worker.register,
]


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def emit(result: Any) -> None:
    if result is None:
        result = {}
    sys.stdout.write(json.dumps(result, default=_json_default) + "\n")
    sys.stdout.flush()


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line on stderr (sub-command parsers inherit this class)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {one_line(message)} (see {self.prog} --help)\n")


def one_line(text: str, limit: int = 500) -> str:
    """Collapse a message to one line: database errors, for one, span several."""
    first = next((line for line in str(text).splitlines() if line.strip()), "")
    collapsed = " ".join(first.split())
    return collapsed if len(collapsed) <= limit else collapsed[: limit - 1] + "…"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="spiko", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in REGISTRARS:
        register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], Any] = args.handler
    try:
        result = handler(args)
        if getattr(args, "prints_json", True):
            emit(result)
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # one line, never a traceback
        from spiko.errors import ApiError

        expected = isinstance(error, ApiError | ValueError | LookupError | OSError)
        message = str(error) if expected else f"{type(error).__name__}: {error}"
        action = getattr(args, "action", None)
        name = f"{args.command} {action}" if action else args.command
        print(f"spiko {name}: error: {one_line(message)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
