"""Starlette requests as Authlib sees them (the framework glue Authlib leaves to integrations)."""

from __future__ import annotations

import base64
import binascii
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from authlib.oauth2.rfc6749 import JsonPayload, JsonRequest, OAuth2Payload, OAuth2Request
from starlette.datastructures import Headers
from starlette.requests import Request

from spiko.core.text import is_clean

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


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


async def read_request(request: Request, issuer: str, *, params_from: str = "auto") -> HttpRequest:
    form: list[tuple[str, str]] = []
    content_type = request.headers.get("content-type", "")
    if request.method == "POST" and content_type.startswith(FORM_TYPES):
        parsed = await request.form(max_files=0, max_fields=100)
        form = [(key, value) for key, value in parsed.multi_items() if isinstance(value, str)]
    query = list(request.query_params.multi_items())
    if params_from == "auto":
        params = form if request.method == "POST" else query
    else:
        params = query if params_from == "query" else form
    uri = issuer + request.url.path + (f"?{request.url.query}" if request.url.query else "")
    host = request.client.host if request.client else "unknown"
    return HttpRequest(request.method, uri, request.headers, params, form, query, host)


def first_values(items: list[tuple[str, str]]) -> dict[str, str]:
    values: dict[str, str] = {}
    for key, value in items:
        values.setdefault(key, value)
    return values


def basic_credentials_are_readable(headers: Headers) -> bool:
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


class StarletteOAuth2Payload(OAuth2Payload):  # type: ignore[misc]
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


class StarletteOAuth2Request(OAuth2Request):  # type: ignore[misc]
    def __init__(self, http: HttpRequest) -> None:
        super().__init__(method=http.method, uri=http.uri, headers=http.headers)
        self.http = http
        self.payload = StarletteOAuth2Payload(http.params)
        self._form = first_values(http.form)
        self._args = first_values(http.query)

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


class StarletteJsonPayload(JsonPayload):  # type: ignore[misc]
    def __init__(self, data: Any) -> None:
        self._data = data

    @property
    def data(self) -> Any:
        return self._data


class StarletteJsonRequest(JsonRequest):  # type: ignore[misc]
    def __init__(self, http: HttpRequest) -> None:
        super().__init__(http.method, http.uri, http.headers)
        self.payload = StarletteJsonPayload(http.json)
