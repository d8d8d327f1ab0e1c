"""The one rule for control characters in what clients send: ids, emails and free text.

No identifier or email address contains a control character; free text may hold tabs and line
breaks and nothing else of the kind. Everything else in C0 (NUL included), DEL and C1 is refused:
PostgreSQL cannot store NUL in text, and CR/LF in an id or a URI is an injection waiting to happen.
"""

from __future__ import annotations

import re
from enum import Enum


class TextKind(Enum):
    ID = "id"  # identifiers, secrets, URIs, parameters
    EMAIL = "email"
    FREE_TEXT = "free text"  # tab, LF and CR allowed


_REFUSED = {
    TextKind.ID: re.compile("[\x00-\x1f\x7f-\x9f]"),
    TextKind.EMAIL: re.compile("[\x00-\x1f\x7f-\x9f]"),
    TextKind.FREE_TEXT: re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"),
}


def control_character(value: str, kind: TextKind = TextKind.ID) -> str | None:
    """The first control character ``value`` may not hold as ``kind``, or None when it is clean."""
    found = _REFUSED[kind].search(value)
    return found.group() if found else None


def is_clean(value: str, kind: TextKind = TextKind.ID) -> bool:
    return _REFUSED[kind].search(value) is None


def describe(character: str) -> str:
    return f"U+{ord(character):04X}"
