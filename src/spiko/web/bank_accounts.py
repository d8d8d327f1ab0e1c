"""The investor's bank accounts (``/bank-accounts``): withdrawal destinations they add and remove.

The same service as ``spiko bank-accounts add`` and ``GET /v1/bank-accounts``; one added here is
usable for withdrawals only after the operator's cooling-off period
(``SPIKO_BANK_ACCOUNT_COOLING_OFF_HOURS``), and adding one asks a session whose last proof of
identity is old for a second factor first (``auth.stepup``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from spiko.auth.sessions import SignedInUser
from spiko.auth.stepup import require_recent_factor
from spiko.errors import ApiError
from spiko.services import bank_accounts, security_events
from spiko.web.rendering import render, translate
from spiko.web.routes import app_context, signed_in, signed_in_form, to_login

router = APIRouter(include_in_schema=False)

CURRENCIES = ("EUR", "USD", "GBP", "CHF")


def _page(
    request: Request,
    user: SignedInUser,
    *,
    status_code: int = 200,
    error: str | None = None,
    notice: str | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    ctx = app_context(request)
    with ctx.transaction(write=False) as session:
        rows = [
            (row, bank_accounts.status(row))
            for row in bank_accounts.list_bank_accounts(session, user.investor_id)
        ]
    return render(
        request,
        "bank_accounts.html",
        status_code=status_code,
        user=user,
        rows=rows,
        error=error,
        notice=notice,
        form=form or {"currency": "EUR"},
        currencies=CURRENCIES,
        cooling_off_hours=ctx.settings.bank_account_cooling_off_hours,
    )


@router.get("/bank-accounts")
def bank_accounts_page(request: Request) -> Response:
    user = signed_in(request)
    if user is None:
        return to_login(request)
    return _page(request, user)


@router.post("/bank-accounts")
def change_bank_accounts(
    request: Request,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    holder: Annotated[str, Form(max_length=300)] = "",
    iban: Annotated[str, Form(max_length=100)] = "",
    bic: Annotated[str, Form(max_length=40)] = "",
    currency: Annotated[str, Form(max_length=3)] = "EUR",
    remove: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Add a bank account (``holder``, ``iban``, ``bic``, ``currency``), or remove one (``remove``:
    its id)."""
    user = signed_in_form(request, csrf_token)
    if isinstance(user, Response):
        return user
    ctx = app_context(request)
    origin = security_events.Origin.of(request)
    if remove:
        try:
            with ctx.transaction() as session:
                row = bank_accounts.remove_bank_account(session, remove, user.investor_id)
                label = row.name or row.iban
                security_events.record(
                    session,
                    user.investor_id,
                    user.user_id,
                    security_events.BANK_ACCOUNT_REMOVED,
                    {"iban": row.iban},
                    origin,
                )
        except ApiError as refused:
            return _page(request, user, status_code=400, error=str(refused))
        return _page(request, user, notice=translate(request, "“%(name)s” was removed.", name=label))
    # A new withdrawal destination is a sensitive change: a stale session proves it is its user
    # again first (the step-up page brings the user back here to submit again).
    if (again := require_recent_factor(request, user, back_to="/bank-accounts")) is not None:
        return again
    form = {"holder": holder, "iban": iban, "bic": bic, "currency": currency}
    if not holder.strip():
        error = translate(request, "Give the account holder's name.")
        return _page(request, user, status_code=400, error=error, form=form)
    if currency not in CURRENCIES:
        error = translate(request, "Choose a currency from the list.")
        return _page(request, user, status_code=400, error=error, form=form)
    try:
        with ctx.transaction() as session:
            row = bank_accounts.add_bank_account(
                session,
                investor_id=user.investor_id,
                iban=iban,
                bic=bic,
                name=holder,
                currency=currency,
                added_by="investor",
                cooling_off=timedelta(hours=ctx.settings.bank_account_cooling_off_hours),
            )
            label = row.iban
            security_events.record(
                session,
                user.investor_id,
                user.user_id,
                security_events.BANK_ACCOUNT_ADDED,
                {"iban": row.iban, "name": row.name},
                origin,
                mailer=ctx.mailer,
            )
    except ApiError as refused:
        return _page(request, user, status_code=400, error=str(refused), form=form)
    return _page(request, user, notice=translate(request, "Bank account %(iban)s was added.", iban=label))
