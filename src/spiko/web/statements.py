"""Statements in the investor app (``/statements``): the PDF of ``GET /v1/accounting-positions/
account-statement`` (``services.reporting.statements``) for any period, one account or all, in
any of the five locales."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response

from spiko.auth.sessions import SignedInUser
from spiko.errors import ApiError
from spiko.services import accounts, clock, reference
from spiko.services.reporting import statements
from spiko.services.reporting.locales import LOCALES
from spiko.web.rendering import render
from spiko.web.routes import app_context, signed_in, to_login

router = APIRouter(include_in_schema=False)

LOCALE_NAMES = {"en": "English", "fr": "Français", "es": "Español", "it": "Italiano", "de": "Deutsch"}


def _page(
    request: Request, user: SignedInUser, *, status_code: int = 200, error: str | None = None
) -> Response:
    with app_context(request).transaction(write=False) as session:
        today = clock.today(session)
        owned = accounts.list_accounts(session, user.investor_id)
        classes = reference.list_share_classes(session)
    month_start = today.replace(day=1)
    previous_month_end = month_start - timedelta(days=1)
    return render(
        request,
        "statements.html",
        status_code=status_code,
        user=user,
        error=error,
        accounts=owned,
        classes=classes,
        locales=[(code, LOCALE_NAMES[code]) for code in LOCALES],
        first=previous_month_end.replace(day=1),
        last=previous_month_end,
    )


@router.get("/statements")
def statements_page(request: Request) -> Response:
    user = signed_in(request)
    if user is None:
        return to_login(request)
    return _page(request, user)


@router.get("/statements/download")
def download_statement(
    request: Request,
    shareClass: str,
    first: date,
    last: date,
    account: str = "",
    locale: str = "en",
    shares: str = "",
) -> Response:
    """The PDF statement (a GET: it changes nothing; the browser saves it)."""
    user = signed_in(request)
    if user is None:
        return to_login(request)
    try:
        pdf, filename = statements.account_statement(
            app_context(request),
            investor_id=user.investor_id,
            account_id=account or None,
            share_class_symbol=shareClass,
            first=first,
            last=last,
            locale=locale if locale in LOCALES else "en",
            show_shares=shares == "on",
        )
    except ApiError as refused:
        return _page(request, user, status_code=400 if refused.status != 404 else 404, error=str(refused))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
