"""HTTP requests and responses as the authorization server sees them, free of any web framework.

The web layers (``spiko.api.oauth`` for the JSON endpoints, ``spiko.web.oauth`` for the pages)
read a request once into an ``HttpRequest`` and turn the ``OAuthResponse`` they get back into
their framework's response; everything in between (Authlib, the database) runs on these.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2.rfc6749 import JsonPayload, JsonRequest, OAuth2Payload, OAuth2Request

from spiko.core.text import is_clean

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class Headers(Mapping[str, str]):
    """Request headers: names without case, the first value by key, every value by ``getlist``."""

    __slots__ = ("_all", "_first")

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._all: dict[str, list[str]] = {}
        for name, value in items:
            self._all.setdefault(name.lower(), []).append(value)
        self._first = {name: values[0] for name, values in self._all.items()}

    def __getitem__(self, name: str) -> str:
        return self._first[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._first

    def get(self, name: str, default: Any = None) -> Any:
        return self._first.get(name.lower(), default)

    def getlist(self, name: str) -> list[str]:
        return list(self._all.get(name.lower(), ()))

    def __iter__(self) -> Iterator[str]:
        return iter(self._first)

    def __len__(self) -> int:
        return len(self._first)


@dataclass(frozen=True)
class HttpRequest:
    """What an OAuth endpoint needs of an HTTP request, read once on the event loop.

    ``uri`` is built on the configured issuer, not on the Host header, so Authlib's transport
    check (https, or plain http on loopback) judges the address clients were given.
    """

    method: str
    uri: str
    headers: Headers
    params: list[tuple[str, str]]  # the OAuth parameters: the query on GET, the form on POST
    form: list[tuple[str, str]]
    query: list[tuple[str, str]]
    client_host: str
    json: Any = None


@dataclass
class OAuthResponse:
    """An answer of the server; ``media_type`` becomes the Content-Type (with a charset for text)."""

    status_code: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    media_type: str | None = None

    def set_header_default(self, name: str, value: str) -> None:
        if not any(key.lower() == name.lower() for key in self.headers):
            self.headers[name] = value


def json_response(
    body: Any, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> OAuthResponse:
    content = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
    return OAuthResponse(status_code, content, dict(headers or {}), "application/json")


def oauth_error(
    status: int, error: str, description: str, headers: Mapping[str, str] | None = None
) -> OAuthResponse:
    """An RFC 6749 section 5.2 error body, never cached."""
    body = {"error": error, "error_description": description}
    return json_response(body, status, {**NO_STORE, **(headers or {})})


def first_values(items: list[tuple[str, str]]) -> dict[str, str]:
    values: dict[str, str] = {}
    for key, value in items:
        values.setdefault(key, value)
    return values


def basic_credentials_are_readable(headers: Mapping[str, str]) -> bool:
    """Authlib decodes Basic credentials as UTF-8 and fails hard on other bytes; refuse them first,
    and control characters (``spiko.core.text``) with them."""
    authorization = headers.get("authorization")
    if not authorization:
        return True
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "basic":
        return True
    try:
        text = base64.b64decode(value.strip().encode("ascii"), validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeError):
        return False
    return is_clean(text)


class HttpOAuth2Payload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, items: list[tuple[str, str]]) -> None:
        self._data = first_values(items)
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in items:
            self._datalist[key].append(value)

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class HttpOAuth2Request(OAuth2Request):  # type: ignore[misc]
    def __init__(self, http: HttpRequest) -> None:
        super().__init__(method=http.method, uri=http.uri, headers=http.headers)
        self.http = http
        self.payload = HttpOAuth2Payload(http.params)
        self._form = first_values(http.form)
        self._args = first_values(http.query)

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


class HttpJsonPayload(JsonPayload):  # type: ignore[misc]
    def __init__(self, data: Any) -> None:
        self._data = data

    @property
    def data(self) -> Any:
        return self._data


class HttpJsonRequest(JsonRequest):  # type: ignore[misc]
    def __init__(self, http: HttpRequest) -> None:
        super().__init__(http.method, http.uri, http.headers)
        self.payload = HttpJsonPayload(http.json)
