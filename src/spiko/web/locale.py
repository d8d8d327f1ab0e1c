"""The language switch of the investor app: ``POST /locale`` remembers the browser's choice.

The choice lives in the ``spiko_locale`` cookie for a year and wins over ``Accept-Language``
(``spiko.web.rendering.page_locale``); it needs no sign-in, so the sign-in page switches too.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from spiko import i18n
from spiko.auth.sessions import csrf_valid
from spiko.web.rendering import LOCALE_COOKIE
from spiko.web.routes import csrf_refused, safe_next

router = APIRouter(include_in_schema=False)
LOCALE_COOKIE_LIFETIME_SECONDS = 365 * 24 * 3600


@router.post("/locale")
def switch_locale(
    request: Request,
    locale: Annotated[str, Form(max_length=10)] = "",
    next: Annotated[str, Form(max_length=4096)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Remember ``locale`` (one of en, fr, es, it, de) and go back to the page ``next``."""
    if not csrf_valid(request, csrf_token):
        return csrf_refused(request)
    response = RedirectResponse(safe_next(next), status_code=303)
    if i18n.is_locale(locale):
        request.state.locale = locale
        response.set_cookie(
            LOCALE_COOKIE,
            locale,
            max_age=LOCALE_COOKIE_LIFETIME_SECONDS,
            path="/",
            httponly=True,
            samesite="lax",
            secure=request.app.state.ctx.settings.secure_cookies,
        )
    return response
