"""An account's page (``/accounts/{accountId}``): details, deposit instructions, transactions.

The transactions are ``GET /v1/account-transactions``'s: the same filters (type, direction,
search), the same signed cursor, the same items (``presenters.account_transactions``); the CSV
and XLSX exports hold every transaction the filters select, walking the same pages.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from spiko.api.v1.account_transactions import cursor_key
from spiko.context import AppContext
from spiko.domain.cursor import Cursor, InvalidCursor, decode_cursor, encode_cursor
from spiko.errors import NotFoundError
from spiko.presenters.account_transactions import TransactionItem, transaction
from spiko.services import accounts as account_service
from spiko.services import deposits
from spiko.services.reporting import history
from spiko.services.reporting.transactions import MAX_LIMIT, list_transactions
from spiko.web import exports
from spiko.web.rendering import render, translate
from spiko.web.routes import app_context, signed_in, to_login

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25
TYPES = ("deposit", "withdrawal", "transfer", "yield")
# The most rows one export holds (ten years of daily yields and orders, with room to spare).
MAX_EXPORT_ROWS = 100_000


def _filters(transaction_type: str | None, direction: str, search: str | None) -> dict[str, Any]:
    return {
        "transaction_type": transaction_type if transaction_type in TYPES else None,
        "direction": "asc" if direction == "asc" else "desc",
        "search": (search or "").strip()[:200] or None,
    }


def _not_found(request: Request) -> Response:
    return render(
        request,
        "error.html",
        status_code=404,
        title=translate(request, "Not found"),
        message=translate(request, "There is no such account among yours."),
    )


@router.get("/accounts/{account_id}")
def account_page(
    request: Request,
    account_id: str,
    transactionType: str | None = None,
    direction: str = "desc",
    search: str | None = None,
    cursor: str | None = None,
) -> Response:
    user = signed_in(request)
    if user is None:
        return to_login(request)
    ctx = app_context(request)
    filters = _filters(transactionType, direction, search)
    key = cursor_key(ctx.settings.secret_key)
    position: Cursor | None = None
    if cursor:
        try:
            position = decode_cursor(cursor, key=key, scope=account_id)
        except InvalidCursor:
            position = None
        if position is not None and position.direction != filters["direction"]:
            position = None

    def read(session: Session) -> dict[str, Any]:
        account = account_service.get_account(session, account_id, user.investor_id)
        share_class = history.share_class(session, account.share_class_id)
        instructions = account_service.deposit_instructions(
            session, account, share_class.id, share_class.currency
        )
        page = list_transactions(session, account, cursor=position, limit=PAGE_SIZE, **filters)
        next_cursor = encode_cursor(page.last, key=key, scope=account_id) if page.last else None
        pending_wires = [
            order
            for order in deposits.list_deposits(session, user.investor_id, "pending")
            if order.account_id == account.id and order.funded_at is None
        ]
        return {
            "account": account,
            "share_class": share_class,
            "instructions": instructions,
            "pending_wires": pending_wires,
            "items": [transaction(item) for item in page.items],
            "next_cursor": next_cursor,
        }

    try:
        page = history.read_fresh_account(ctx, user.investor_id, account_id, None, read)
    except NotFoundError:
        return _not_found(request)
    query = {
        k: v
        for k, v in (
            ("transactionType", filters["transaction_type"]),
            ("direction", filters["direction"]),
            ("search", filters["search"]),
        )
        if v
    }
    return render(
        request,
        "account.html",
        user=user,
        filters=filters,
        types=TYPES,
        query=query,
        paged=position is not None,
        **page,
    )


def _every_item(
    ctx: AppContext, investor_id: str, account_id: str, filters: dict[str, Any]
) -> list[TransactionItem]:
    def read(session: Session) -> list[TransactionItem]:
        account = history.owned_account(session, account_id, investor_id)
        items: list[TransactionItem] = []
        position = None
        while len(items) < MAX_EXPORT_ROWS:
            page = list_transactions(session, account, cursor=position, limit=MAX_LIMIT, **filters)
            items.extend(transaction(item) for item in page.items)
            if not page.has_more or page.last is None:
                break
            position = page.last
        return items[:MAX_EXPORT_ROWS]

    return history.read_fresh_account(ctx, investor_id, account_id, None, read)


@router.get("/accounts/{account_id}/transactions.{extension}")
def export_transactions(
    request: Request,
    account_id: str,
    extension: Literal["csv", "xlsx"],
    transactionType: str | None = None,
    direction: str = "desc",
    search: str | None = None,
) -> Response:
    """Every transaction the filters select (not only the page shown), as CSV or XLSX."""
    user = signed_in(request)
    if user is None:
        return to_login(request)
    filters = _filters(transactionType, direction, search)
    try:
        items = _every_item(app_context(request), user.investor_id, account_id, filters)
    except NotFoundError:
        return _not_found(request)
    rows = [exports.row(item) for item in items]
    name = f"transactions-{account_id[:8]}-{date.today().isoformat()}.{extension}"
    if extension == "csv":
        body, media_type = exports.to_csv(rows), "text/csv; charset=utf-8"
    else:
        body = exports.to_xlsx(rows)
        media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
