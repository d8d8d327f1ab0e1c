"""Account Transactions (reference tag "Account Transactions"): orders and yield accruals, paged."""

from __future__ import annotations

import hashlib
import uuid
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from spiko.api.deps import Context, CurrentPrincipal
from spiko.api.routing import PresentedRoute
from spiko.domain.cursor import InvalidCursor, decode_cursor, encode_cursor
from spiko.errors import HttpApiDecodeError
from spiko.presenters.account_transactions import AccountTransactionsBody, account_transactions
from spiko.services.reporting import history
from spiko.services.reporting.transactions import DEFAULT_LIMIT, MAX_LIMIT, list_transactions

router = APIRouter(tags=["Account Transactions"], route_class=PresentedRoute)


def cursor_key(secret_key: str) -> bytes:
    return hashlib.sha256(b"spiko/account-transactions-cursor\x00" + secret_key.encode()).digest()


def _limit(text: str | None) -> int:
    if text is None:
        return DEFAULT_LIMIT
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_LIMIT:
        raise HttpApiDecodeError.single(
            ["limit"], f"limit must be a whole number between 1 and {MAX_LIMIT}", "Refinement"
        )
    return int(text)


@router.get(
    "/account-transactions",
    operation_id="accountTransactions.getAccountTransactions",
    summary="Get account transactions",
)
def get_account_transactions(
    principal: CurrentPrincipal,
    ctx: Context,
    accountId: uuid.UUID,
    transactionType: Literal["deposit", "withdrawal", "transfer", "yield"] | None = None,
    direction: Literal["asc", "desc"] = "desc",
    limit: str | None = None,
    cursor: str | None = None,
    search: str | None = None,
) -> JSONResponse:
    page_size = _limit(limit)
    account_id = str(accountId)
    key = cursor_key(ctx.settings.secret_key)
    position = None
    if cursor is not None:
        try:
            position = decode_cursor(cursor, key=key, scope=account_id)
        except InvalidCursor as error:
            raise HttpApiDecodeError.single(["cursor"], str(error), "Transformation") from None
        if position.direction != direction:
            raise HttpApiDecodeError.single(
                ["cursor"], "the cursor was issued for the other direction", "Refinement"
            )
    if search is not None and len(search) > 200:
        raise HttpApiDecodeError.single(["search"], "search is at most 200 characters", "Refinement")

    def read(session: Session) -> AccountTransactionsBody:
        account = history.owned_account(session, account_id, principal.investor_id)
        page = list_transactions(
            session,
            account,
            cursor=position,
            direction=direction,
            limit=page_size,
            transaction_type=transactionType,
            search=search,
        )
        next_cursor = encode_cursor(page.last, key=key, scope=account_id) if page.last else None
        return account_transactions(page, next_cursor)

    # Only yield accruals come from the stored positions: other listings need no refresh.
    refresh = transactionType in (None, "yield")
    body = history.read_fresh_account(ctx, principal.investor_id, account_id, None, read, refresh=refresh)
    return JSONResponse(body)
