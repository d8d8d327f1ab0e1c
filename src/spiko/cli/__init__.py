"""The ``spiko`` command: thin entry points over the services.

Every command prints its result as one JSON object (or array) on stdout; human-readable
messages go to stderr; errors exit non-zero with a one-line explanation.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from spiko.cli import funds, identity, oauth, orders, sdk, server

REGISTRARS: list[Callable[[Any], None]] = [
    server.register,
    identity.register,
    oauth.register,
    funds.register,
    orders.register,
    sdk.register,
]


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def emit(result: Any) -> None:
    if result is None:
        return
    sys.stdout.write(json.dumps(result, default=_json_default) + "\n")
    sys.stdout.flush()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spiko", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in REGISTRARS:
        register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], Any] = args.handler
    try:
        emit(handler(args))
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # one line, never a traceback
        from spiko.errors import ApiError

        message = str(error) if isinstance(error, ApiError | ValueError | LookupError) else repr(error)
        print(f"spiko {args.command}: error: {message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
