"""Control characters refused at the edge, before any route, form parser or database sees them.

Every request's path, query parameters, header values and body fields (URL-encoded and
multipart forms, JSON strings) pass ``spiko.core.text``; the first offender is answered in the
surface's own format: a 400 tagged ``HttpApiDecodeError`` on the APIs, an RFC 6749
``invalid_request`` on the authorization server, an HTML page on the investor app (a path is
not found: 404). Basic credentials are judged by the same rule where they are decoded
(``auth/principal.py``, ``auth/oauth/requests.py``), which refuse them as malformed (401).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterator
from typing import Any, Literal
from urllib.parse import parse_qsl

from starlette.datastructures import UploadFile
from starlette.requests import Request

from spiko.core.text import TextKind, control_character, describe
from spiko.errors import HttpApiDecodeError, NotFoundError

Surface = Literal["api", "oauth", "page"]
SurfaceOf = Callable[[str], Surface]

# Fields that hold prose a person typed: tabs and line breaks are theirs to use.
FREE_TEXT_FIELDS = frozenset({"password", "description", "note", "comment", "message"})
EMAIL_FIELDS = frozenset({"email"})
FORM_TYPES = (b"application/x-www-form-urlencoded", b"multipart/form-data")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_HEADER_REFUSED = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_RAW_CONTROL = re.compile(rb"[\x00-\x1f\x7f]")


class Offence(Exception):
    def __init__(self, location: str, name: str, character: str) -> None:
        super().__init__(f"{location} {name}")
        self.location, self.name, self.character = location, name, character

    @property
    def message(self) -> str:
        where = f"{self.name}" if self.name else self.location
        return f"{where}: control character {describe(self.character)} is not allowed"


def _kind(name: str) -> TextKind:
    if name in FREE_TEXT_FIELDS:
        return TextKind.FREE_TEXT
    if name in EMAIL_FIELDS:
        return TextKind.EMAIL
    return TextKind.ID


def _check(location: str, name: str, value: str, kind: TextKind | None = None) -> None:
    found = control_character(value, kind or _kind(name))
    if found is not None:
        raise Offence(location, name, found)


def _check_pairs(location: str, pairs: list[tuple[str, str]]) -> None:
    for name, value in pairs:
        _check(location, name, name, TextKind.ID)
        _check(location, name, value)


def _check_target(scope: dict[str, Any]) -> None:
    _check("path", "", scope.get("path", ""), TextKind.ID)
    raw: bytes = scope.get("query_string", b"")
    # Without a percent escape, a query can only hold a control character as a raw byte (which
    # HTTP parsers refuse anyway): a byte scan is enough, and the common case stays cheap.
    if raw and (b"%" in raw or _RAW_CONTROL.search(raw)):
        query = raw.decode("latin-1")
        _check_pairs("query", parse_qsl(query, keep_blank_values=True, errors="replace"))


def _check_headers(headers: list[tuple[bytes, bytes]]) -> None:
    # Header bytes are Latin-1 on the wire; UTF-8 text in them shows up as bytes 0x80-0xFF, so
    # only C0 and DEL are judged here (the HTTP parser already refuses most of them). Credentials
    # are refused by their readers, as malformed (401). One scan of all values, joined by a tab
    # (allowed), keeps the common case cheap.
    if not _HEADER_REFUSED.search(b"\t".join(value for name, value in headers if name != b"authorization")):
        return
    for name, value in headers:
        if name == b"authorization":
            continue
        refused = _HEADER_REFUSED.search(value)
        if refused is not None:
            raise Offence("header", name.decode("latin-1"), refused.group().decode("latin-1"))


def _json_strings(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, dict):
        for name, item in value.items():
            yield name, name
            yield from _json_strings(item, name)
    elif isinstance(value, list):
        for item in value:
            yield from _json_strings(item, key)


def _check_json(body: bytes) -> None:
    # JSON cannot carry a raw control character inside a string, only an escape: without "\u"
    # escapes the body can only hold the ones allowed as whitespace, or C1 characters.
    if b"\\u" not in body and not any(0x80 <= code <= 0x9F for code in _c1(body)):
        return
    try:
        document = json.loads(body)
    except ValueError:
        return  # not JSON: the route's decoder says so in its own words
    for name, value in _json_strings(document):
        _check("body", name, value)


def _c1(body: bytes) -> Iterator[int]:
    """Code points of the UTF-8 two-byte sequences C2 80..C2 9F (C1 controls), cheaply."""
    start = body.find(b"\xc2")
    while start != -1 and start + 1 < len(body):
        yield body[start + 1]
        start = body.find(b"\xc2", start + 1)


async def _check_form(scope: dict[str, Any], body: bytes) -> None:
    async def replay() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    request = Request(scope, replay)
    try:
        form = await request.form()
    except Exception:  # noqa: BLE001 - an unreadable form is the route's to refuse
        return
    try:
        pairs = [(name, value) for name, value in form.multi_items() if not isinstance(value, UploadFile)]
        _check_pairs("body", pairs)
    finally:
        await form.close()


def _refusal(surface: Surface, offence: Offence) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    if offence.location == "path":
        # No route or resource has such a name: not found, as any other unknown id in a path.
        if surface == "page":
            page = (
                "<!doctype html><html lang=en><meta charset=utf-8><title>Page not found · Spiko</title>"
                '<link rel="stylesheet" href="/static/app.css"><main><section class="card narrow">'
                "<h1>Page not found</h1><p>There is no page at this address.</p></section></main></html>"
            )
            return 404, [(b"content-type", b"text/html; charset=utf-8")], page.encode()
        body = json.dumps(NotFoundError("Not found").body()).encode()
        return 404, [(b"content-type", b"application/json")], body
    if surface == "api":
        path: list[str | int] = [offence.location]
        if offence.name:
            path.append(offence.name)
        error = HttpApiDecodeError.single(path, offence.message, "Refinement")
        return 400, [(b"content-type", b"application/json")], json.dumps(error.body()).encode()
    if surface == "oauth":
        oauth_body = {"error": "invalid_request", "error_description": offence.message}
        headers = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]
        return 400, headers, json.dumps(oauth_body).encode()
    page = (
        "<!doctype html><html lang=en><meta charset=utf-8><title>Request refused · Spiko</title>"
        '<link rel="stylesheet" href="/static/app.css"><main><section class="card narrow">'
        f"<h1>Request refused</h1><p>{html.escape(offence.message)}.</p></section></main></html>"
    )
    return 400, [(b"content-type", b"text/html; charset=utf-8")], page.encode()


class ControlCharacterMiddleware:
    """Pure ASGI: judges the request before the application; replays the body it had to read."""

    def __init__(self, app: Any, surface_of: SurfaceOf) -> None:
        self.app = app
        self.surface_of = surface_of

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
        try:
            _check_target(scope)
            _check_headers(headers)
            content_type = next((value for name, value in headers if name == b"content-type"), b"")
            # Any other body is judged as JSON: FastAPI reads a body without a content type as
            # JSON too. One that does not parse as JSON is the route's to refuse.
            if scope.get("method") in BODY_METHODS:
                body = await _read_body(receive)
                if content_type.startswith(FORM_TYPES):
                    await _check_form(scope, body)
                else:
                    _check_json(body)
                receive = replayed(body, receive)
        except Offence as offence:
            await _answer(send, *_refusal(self.surface_of(scope.get("path", "")), offence))
            return
        await self.app(scope, receive, send)


async def _read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replayed(body: bytes, receive: Any) -> Any:
    sent = False

    async def replay() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        message: dict[str, Any] = await receive()  # after the body: only a disconnect can come
        return message

    return replay


async def _answer(send: Any, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
