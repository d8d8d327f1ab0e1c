"""Rendering pages with Jinja2, each carrying the browser's CSRF token."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from spiko.auth.sessions import CSRF_COOKIE, csrf_seed, csrf_token_for
from spiko.web import formatting

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

environment = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
    extensions=["jinja2.ext.i18n"],
)
# Every user-visible string in a template is wrapped in ``_()`` (or ``{% trans %}``); until a
# locale is chosen per request, the strings render as written (English).
environment.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
environment.filters.update(formatting.FILTERS)

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; style-src 'self'; form-action 'self' http: https:; "
    "frame-ancestors 'none'",
}


def render(
    request: Request,
    template: str,
    status_code: int = 200,
    *,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """Render a page with the browser's CSRF token (setting the seed cookie if it has none)."""
    seed = csrf_seed(request)
    context.setdefault("user", None)
    html = environment.get_template(template).render(
        request=request, csrf_token=csrf_token_for(request, seed), **context
    )
    response = HTMLResponse(html, status_code=status_code, headers={**SECURITY_HEADERS, **(headers or {})})
    if request.cookies.get(CSRF_COOKIE) != seed:
        csrf_seed(request, response)
    return response
