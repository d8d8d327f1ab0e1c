"""The page cursor: opaque, round-trips, and refuses anything it did not issue."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spiko.domain.cursor import Cursor, InvalidCursor, decode_cursor, encode_cursor

KEY = b"k" * 32


@given(
    st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)),
    st.uuids().map(str),
    st.sampled_from(["asc", "desc"]),
)
def test_round_trip(moment: datetime, item_id: str, direction: str) -> None:
    cursor = Cursor(moment, item_id, direction)
    text = encode_cursor(cursor, key=KEY, scope="acct-1")
    assert "=" not in text and "/" not in text and "+" not in text
    assert decode_cursor(text, key=KEY, scope="acct-1") == cursor


def test_refuses_other_scope_key_and_tampering() -> None:
    text = encode_cursor(Cursor(datetime(2025, 1, 1, tzinfo=UTC), "abc", "desc"), key=KEY, scope="a")
    with pytest.raises(InvalidCursor):
        decode_cursor(text, key=KEY, scope="b")
    with pytest.raises(InvalidCursor):
        decode_cursor(text, key=b"other", scope="a")
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    forged = raw.replace(b"desc", b"asc\x00")
    with pytest.raises(InvalidCursor):
        decode_cursor(base64.urlsafe_b64encode(forged).decode().rstrip("="), key=KEY, scope="a")


@given(st.text(max_size=600))
def test_garbage_never_decodes(text: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(text, key=KEY, scope="a")
