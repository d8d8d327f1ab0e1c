"""Reduce a published OpenAPI document to its structure: paths, parameters and schemas, without prose.

Usage: python scripts/reduce_spec.py SOURCE.json DEST.json

Every string-valued ``description``, ``summary`` and ``externalDocs`` is removed, as are
``examples``; a property *named* ``description`` inside ``properties`` is kept, since it is
part of the structure. The output is sorted and stable, so re-running it yields no diff.
"""

from __future__ import annotations

import json
import sys
from typing import Any

PROSE_KEYS = {"description", "summary", "externalDocs", "example", "examples", "x-displayName"}


def reduce(node: Any, *, in_properties: bool = False) -> Any:
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            is_prose = isinstance(value, str) or key in {"externalDocs", "example", "examples"}
            if not in_properties and key in PROSE_KEYS and is_prose:
                continue
            out[key] = reduce(value, in_properties=(key == "properties" and not in_properties))
        return out
    if isinstance(node, list):
        return [reduce(item) for item in node]
    return node


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as source:
        document = json.load(source)
    reduced = reduce(document)
    with open(argv[2], "w", encoding="utf-8") as dest:
        json.dump(reduced, dest, indent=1, sort_keys=True)
        dest.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
