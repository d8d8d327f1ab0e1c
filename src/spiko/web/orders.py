"""Orders in the investor app: the list (``/orders``), a new order (``/orders/new``), one order.

A new order goes through a confirmation step that shows what will happen (the wire to make,
the estimated amount, the trade day and the NAV it will execute at, from
``services.order_estimates``), then is placed by the same services as ``/v1``, under the
idempotency key the form was issued with (``services.idempotency``): a double click, a
reload or a second tab posting the same form places one order.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from spiko.auth.sessions import SignedInUser
from spiko.db.models.funds import ShareClass
from spiko.db.models.orders import Account, BankAccount
from spiko.errors import ApiError, BadRequestError, NotFoundError
from spiko.presenters.deposit_orders import created_deposit_order
from spiko.services import (
    accounts,
    bank_accounts,
    deposits,
    idempotency,
    order_estimates,
    orders,
    transfers,
    withdrawals,
)
from spiko.web.rendering import render, translate
from spiko.web.routes import app_context, signed_in, signed_in_form, to_login

router = APIRouter(include_in_schema=False)

KINDS = ("deposit", "withdrawal", "transfer")
WITHDRAWAL_MODES = ("amount", "shares", "total")
TRANSFER_MODES = {"amount": "in-amount", "shares": "in-shares", "total": "total"}
_NUMBER = re.compile(r"\d{1,15}(\.\d{1,18})?")


def _number(text: str, what: str) -> Decimal:
    text = text.strip().replace(" ", "").replace(",", ".")
    if not _NUMBER.fullmatch(text):
        raise BadRequestError(f"{what} must be a positive number, e.g. 25000.00")
    return Decimal(text)


@dataclass
class OrderForm:
    """What the new-order form holds, posted back unchanged through the confirmation step."""

    kind: str = "deposit"
    account_id: str = ""
    to_account_id: str = ""
    bank_account_id: str = ""
    mode: str = "amount"
    amount: str = ""
    shares: str = ""
    idempotency_key: str = ""

    def payload(self) -> dict[str, str]:
        fields = {"kind": self.kind, "account": self.account_id, "mode": self.mode}
        if self.kind == "deposit":
            return {**fields, "amount": self.amount}
        if self.kind == "transfer":
            fields["to"] = self.to_account_id
        else:
            fields["bank"] = self.bank_account_id
        if self.mode == "amount":
            fields["amount"] = self.amount
        elif self.mode == "shares":
            fields["shares"] = self.shares
        return fields


@dataclass(frozen=True)
class Review:
    """The confirmation step's facts: what the order is, and when and at what it should trade."""

    account: Account
    share_class: ShareClass
    estimate: order_estimates.Estimate
    to_account: Account | None = None
    bank_label: str | None = None


def _choices(session: Session, investor_id: str) -> dict[str, Any]:
    owned = accounts.list_accounts(session, investor_id)
    classes = {
        account.share_class_id: orders.share_class(session, account.share_class_id) for account in owned
    }
    usable = [
        (row, bank_accounts.status(row)) for row in bank_accounts.list_bank_accounts(session, investor_id)
    ]
    return {"accounts": owned, "classes": classes, "banks": usable}


def _form_page(
    request: Request,
    user: SignedInUser,
    form: OrderForm,
    *,
    status_code: int = 200,
    error: str | None = None,
) -> Response:
    with app_context(request).transaction(write=False) as session:
        choices = _choices(session, user.investor_id)
    return render(
        request,
        "order_new.html",
        status_code=status_code,
        user=user,
        form=form,
        error=error,
        kinds=KINDS,
        **choices,
    )


def _review(session: Session, investor_id: str, form: OrderForm) -> Review:
    account = accounts.get_account(session, form.account_id, investor_id)
    share_class = orders.share_class(session, account.share_class_id)
    if form.kind == "deposit":
        day = order_estimates.trade_day_now(session, share_class)
        wired = order_estimates.Estimate(day, None, None, _number(form.amount, "The amount"))
        return Review(account, share_class, wired)
    if form.mode not in WITHDRAWAL_MODES:
        raise BadRequestError("Choose how much: an amount, a number of shares or everything.")
    amount = _number(form.amount, "The amount") if form.mode == "amount" else None
    shares = _number(form.shares, "The number of shares") if form.mode == "shares" else None
    estimate = order_estimates.new_withdrawal(
        session,
        account_id=account.id,
        investor_id=investor_id,
        share_class=share_class,
        mode=form.mode,
        amount=amount,
        shares=shares,
    )
    if form.kind == "transfer":
        target = accounts.get_account(session, form.to_account_id, investor_id)
        if target.id == account.id:
            raise BadRequestError("Choose two different accounts.")
        return Review(account, share_class, estimate, to_account=target)
    bank = bank_accounts.withdrawal_destination(session, form.bank_account_id, investor_id)
    return Review(account, share_class, estimate, bank_label=f"{bank.name or ''} {bank.iban}".strip())


def _place(session: Session, investor_id: str, form: OrderForm) -> dict[str, str]:
    """Place the order; the answer (stored with the idempotency key) names it."""
    account = accounts.get_account(session, form.account_id, investor_id)
    share_class = orders.share_class(session, account.share_class_id)
    amount = _number(form.amount, "The amount") if form.kind == "deposit" or form.mode == "amount" else None
    shares = _number(form.shares, "The number of shares") if form.mode == "shares" else None
    if form.kind == "deposit":
        assert amount is not None
        order = deposits.create_deposit(
            session,
            investor_id=investor_id,
            account_id=account.id,
            share_class_id=share_class.id,
            amount=amount,
            currency=share_class.currency,
        )
        return {"kind": "deposit", "id": order.id}
    if form.kind == "withdrawal":
        withdrawal = withdrawals.create_withdrawal(
            session,
            investor_id=investor_id,
            account_id=account.id,
            share_class_id=share_class.id,
            bank_account_id=form.bank_account_id,
            mode=form.mode,
            amount=amount,
            currency=share_class.currency if amount is not None else None,
            shares=shares,
        )
        return {"kind": "withdrawal", "id": withdrawal.id}
    transfer = transfers.create_transfer(
        session,
        investor_id=investor_id,
        from_account_id=account.id,
        to_account_id=form.to_account_id,
        share_class_id=share_class.id,
        mode=TRANSFER_MODES.get(form.mode, form.mode),
        amount=amount,
        currency=share_class.currency if amount is not None else None,
        shares=shares,
    )
    return {"kind": "transfer", "id": transfer.id}


@router.get("/orders/new")
def new_order(request: Request, kind: str = "deposit", account: str = "") -> Response:
    user = signed_in(request)
    if user is None:
        return to_login(request)
    form = OrderForm(
        kind=kind if kind in KINDS else "deposit",
        account_id=account,
        mode="amount",
        idempotency_key=secrets.token_urlsafe(24),
    )
    return _form_page(request, user, form)


@router.post("/orders/new")
def post_order(
    request: Request,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    step: Annotated[str, Form(max_length=10)] = "review",
    kind: Annotated[str, Form(max_length=20)] = "deposit",
    account_id: Annotated[str, Form(max_length=100)] = "",
    to_account_id: Annotated[str, Form(max_length=100)] = "",
    bank_account_id: Annotated[str, Form(max_length=100)] = "",
    mode: Annotated[str, Form(max_length=10)] = "amount",
    amount: Annotated[str, Form(max_length=40)] = "",
    shares: Annotated[str, Form(max_length=40)] = "",
    idempotency_key: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """``step=review`` shows the confirmation; ``step=confirm`` places the order (once per key);
    ``step=edit`` goes back to the form with what was typed."""
    user = signed_in_form(request, csrf_token)
    if isinstance(user, Response):
        return user
    form = OrderForm(
        kind if kind in KINDS else "deposit",
        account_id,
        to_account_id,
        bank_account_id,
        mode if mode in WITHDRAWAL_MODES else "amount",
        amount,
        shares,
        idempotency_key if len(idempotency_key) >= idempotency.MIN_KEY_LENGTH else secrets.token_urlsafe(24),
    )
    if step == "edit":
        return _form_page(request, user, form)
    ctx = app_context(request)
    if step != "confirm":
        try:
            with ctx.transaction(write=False) as session:
                review = _review(session, user.investor_id, form)
                return render(
                    request, "order_review.html", user=user, form=form, fields=asdict(form), review=review
                )
        except ApiError as refused:
            return _form_page(request, user, form, status_code=400, error=str(refused))
    try:
        outcome = idempotency.run_once(
            ctx,
            investor_id=user.investor_id,
            key=f"web:{form.idempotency_key}",
            method="POST",
            path="/orders/new",
            payload=form.payload(),
            action=lambda session: _place(session, user.investor_id, form),
        )
    except ApiError as refused:
        return _form_page(request, user, form, status_code=400, error=str(refused))
    placed = outcome.body
    return RedirectResponse(f"/orders/{placed['kind']}/{placed['id']}?placed=1", status_code=303)


@dataclass(frozen=True)
class OrderLine:
    kind: str
    order_id: str
    created_at: datetime
    account_id: str
    share_class: ShareClass
    status: str
    amount: Decimal | None
    cancelable: bool


def _lines(session: Session, investor_id: str) -> list[OrderLine]:
    lines = []
    for d in deposits.list_deposits(session, investor_id):
        sc = orders.share_class(session, d.share_class_id)
        status = d.status if d.status != "pending" else ("funded" if d.funded_at else "pending")
        cancelable = d.status == "pending" and d.funded_at is None
        lines.append(OrderLine("deposit", d.id, d.created_at, d.account_id, sc, status, d.amount, cancelable))
    for w in withdrawals.list_withdrawals(session, investor_id):
        sc = orders.share_class(session, w.share_class_id)
        amount = w.amount if w.amount is not None else w.requested_amount
        lines.append(
            OrderLine(
                "withdrawal", w.id, w.created_at, w.account_id, sc, w.status, amount, w.status == "pending"
            )
        )
    for t in transfers.list_transfers(session, investor_id):
        sc = orders.share_class(session, t.share_class_id)
        lines.append(
            OrderLine("transfer", t.id, t.created_at, t.from_account_id, sc, t.status, t.amount, False)
        )
    lines.sort(key=lambda line: line.created_at, reverse=True)
    return lines


@router.get("/orders")
def orders_page(request: Request, notice: str | None = None) -> Response:
    user = signed_in(request)
    if user is None:
        return to_login(request)
    with app_context(request).transaction(write=False) as session:
        lines = _lines(session, user.investor_id)
        names = {a.id: a.name or a.id for a in accounts.list_accounts(session, user.investor_id)}
    message = translate(request, "The order was canceled.") if notice == "canceled" else None
    return render(request, "orders.html", user=user, lines=lines, names=names, notice=message)


def _order(session: Session, investor_id: str, kind: str, order_id: str) -> dict[str, Any]:
    if kind == "deposit":
        deposit = deposits.get_deposit(session, order_id, investor_id)
        sc = orders.share_class(session, deposit.share_class_id)
        return {
            "order": deposit,
            "share_class": sc,
            "wire": created_deposit_order(deposit, sc)["wireInstructions"],
            "estimate": order_estimates.deposit(session, deposit),
            "cancelable": deposit.status == "pending" and deposit.funded_at is None,
        }
    if kind == "withdrawal":
        withdrawal = withdrawals.get_withdrawal(session, order_id, investor_id)
        sc = orders.share_class(session, withdrawal.share_class_id)
        bank = orders.owned(session, BankAccount, withdrawal.bank_account_id, investor_id, "Bank account")
        return {
            "order": withdrawal,
            "share_class": sc,
            "bank": bank,
            "estimate": order_estimates.withdrawal(session, withdrawal)
            if withdrawal.status == "pending"
            else None,
            "cancelable": withdrawal.status == "pending",
        }
    if kind == "transfer":
        transfer = transfers.get_transfer(session, order_id, investor_id)
        return {
            "order": transfer,
            "share_class": orders.share_class(session, transfer.share_class_id),
            "cancelable": False,
        }
    raise NotFoundError("Order not found")


def _no_such_order(request: Request) -> Response:
    return render(
        request,
        "error.html",
        status_code=404,
        title=translate(request, "Not found"),
        message=translate(request, "There is no such order among yours."),
    )


@router.get("/orders/{kind}/{order_id}")
def order_page(request: Request, kind: str, order_id: str, placed: str | None = None) -> Response:
    user = signed_in(request)
    if user is None:
        return to_login(request)
    try:
        with app_context(request).transaction(write=False) as session:
            found = _order(session, user.investor_id, kind, order_id)
    except NotFoundError:
        return _no_such_order(request)
    return render(request, "order.html", user=user, kind=kind, placed=bool(placed), **found)


@router.post("/orders/{kind}/{order_id}/cancel")
def cancel_order(
    request: Request, kind: str, order_id: str, csrf_token: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    user = signed_in_form(request, csrf_token)
    if isinstance(user, Response):
        return user
    try:
        with app_context(request).transaction() as session:
            if kind == "deposit":
                deposits.cancel_deposit(session, order_id, user.investor_id)
            elif kind == "withdrawal":
                withdrawals.cancel_withdrawal(session, order_id, user.investor_id)
            else:
                raise NotFoundError("Order not found")
    except NotFoundError:
        return _no_such_order(request)
    except ApiError as refused:
        return render(
            request,
            "error.html",
            status_code=400,
            title=translate(request, "Not canceled"),
            message=str(refused),
        )
    return RedirectResponse("/orders?notice=canceled", status_code=303)
