"""Starlette requests in, Starlette responses out: the adapter between the web framework and the
framework-free authorization server (``spiko.auth.oauth.requests``), for its JSON endpoints
(``spiko.api.oauth``) and its pages (``spiko.web.oauth``)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from spiko.auth.oauth.requests import FORM_TYPES, Headers, HttpRequest, OAuthResponse


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
    headers = Headers(
        (name.decode("latin-1"), value.decode("latin-1")) for name, value in request.headers.raw
    )
    return HttpRequest(request.method, uri, headers, params, form, query, host)


def to_response(answer: OAuthResponse) -> Response:
    return Response(
        answer.body, status_code=answer.status_code, headers=answer.headers, media_type=answer.media_type
    )
