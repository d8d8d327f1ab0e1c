"""Request pieces and response shapes shared by the account and order routes (and the CLI).

Every body here is built to the reference schemas (``additionalProperties: false``): amounts
as ``{"value": "<decimal string>", "currency": ...}``, shares as decimal strings with the
share class's ``shareDecimals``, timestamps as ISO 8601 UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from spiko.auth.principal import Principal
from spiko.context import AppContext
from spiko.db.models.funds import ShareClass
from spiko.db.models.orders import Account, BankAccount, DepositOrder, TransferOrder, WithdrawalOrder
from spiko.domain.money import MoneyError, format_amount, format_decimal, minor_units, parse_non_negative
from spiko.errors import HttpApiDecodeError
from spiko.services import accounts as account_service
from spiko.services import idempotency
from spiko.services.withdrawals import describe

Currency = Literal["EUR", "USD", "GBP", "CHF", "JPY", "SGD"]

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=idempotency.MIN_KEY_LENGTH,
        max_length=idempotency.MAX_KEY_LENGTH,
        description="Retries with the same key and body return the first response without acting twice "
        "(8 to 255 characters, kept 24 hours).",
    ),
]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AmountIn(StrictModel):
    value: str
    currency: Currency


def parse_amount(amount: AmountIn, path: list[str | int]) -> Decimal:
    """The amount, with no more decimals than its currency's minor unit (every order type)."""
    try:
        return parse_non_negative(amount.value, max_decimals=minor_units(amount.currency), what="value")
    except MoneyError as error:
        raise HttpApiDecodeError.single([*path, "value"], str(error), "Refinement") from None


def parse_shares(text: str, path: list[str | int]) -> Decimal:
    try:
        return parse_non_negative(text, max_decimals=18, what="shares")
    except MoneyError as error:
        raise HttpApiDecodeError.single(path, str(error), "Refinement") from None


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def money(value: Decimal, currency: str) -> dict[str, str]:
    return {"value": format_amount(value, currency), "currency": currency}


def _share_class(session: Session, share_class_id: str) -> ShareClass:
    share_class = session.get(ShareClass, share_class_id)
    assert share_class is not None
    return share_class


def shares_text(session: Session, share_class_id: str, shares: Decimal | None) -> str | None:
    if shares is None:
        return None
    return format_decimal(shares, _share_class(session, share_class_id).share_decimals)


def idempotent_response(
    ctx: AppContext,
    request: Request,
    principal: Principal,
    key: str | None,
    payload: Any,
    action: Any,
) -> JSONResponse:
    """Run a POST's action once per Idempotency-Key (see ``services.idempotency``)."""
    outcome = idempotency.run_once(
        ctx,
        investor_id=principal.investor_id,
        key=key,
        method=request.method,
        path=request.url.path,
        payload=payload,
        action=action,
    )
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else None
    return JSONResponse(outcome.body, status_code=outcome.status, headers=headers)


# --- shapes -------------------------------------------------------------------------------------


def account_body(account: Account) -> dict[str, Any]:
    return {
        "id": account.id,
        "investorId": account.investor_id,
        "blockchainAccount": {
            "address": account.blockchain_address,
            "network": account.network,
            "permissionGroups": account_service.permission_groups(account.network),
        },
        "type": account.type,
        "createdAt": iso(account.created_at),
        "name": account.name,
    }


def bank_account_body(bank_account: BankAccount) -> dict[str, Any]:
    return {
        "id": bank_account.id,
        "investorId": bank_account.investor_id,
        "name": bank_account.name,
        "details": {
            "currency": bank_account.currency,
            "accountNumber": bank_account.iban,
            "bic": bank_account.bic,
        },
    }


def deposit_body(order: DepositOrder) -> dict[str, Any]:
    return {
        "id": order.id,
        "investorId": order.investor_id,
        "accountId": order.account_id,
        "shareClassId": order.share_class_id,
        "amount": money(order.amount, order.currency),
        "status": order.status,
        "wireReference": order.wire_reference,
        "createdAt": iso(order.created_at),
        "fundedAt": iso(order.funded_at),
        "executedAt": iso(order.executed_at),
        "canceledAt": iso(order.canceled_at),
    }


def deposit_created_body(session: Session, order: DepositOrder) -> dict[str, Any]:
    share_class = _share_class(session, order.share_class_id)
    return {
        "id": order.id,
        "wireInstructions": {
            "reference": order.wire_reference,
            "iban": share_class.bank_account_number,
            "intermediaryBic": share_class.bank_account_intermediary_bic,
            "bic": share_class.bank_account_bic,
            "currency": share_class.currency,
        },
        "status": "created",
        "createdAt": iso(order.created_at),
    }


def direct_debit_body(order: DepositOrder) -> dict[str, Any]:
    assert order.bank_account_id is not None and order.scheduled_day is not None
    if order.status == "canceled":
        status = "canceled"
    elif order.funded_at is not None:
        status = "confirmed"
    else:
        status = "pending"
    return {
        "investorId": order.investor_id,
        "amount": money(order.amount, order.currency),
        "shareClassId": order.share_class_id,
        "accountId": order.account_id,
        "bankAccountId": order.bank_account_id,
        "status": status,
        "createdAt": iso(order.created_at),
        "scheduledDate": order.scheduled_day.isoformat(),
    }


def subscription_body(session: Session, order: DepositOrder) -> dict[str, Any]:
    amount = money(order.amount, order.currency)
    return {
        "id": order.id,
        "investorId": order.investor_id,
        "amount": amount,
        "amountInShareClassCurrency": dict(amount),
        "sharesAmount": shares_text(session, order.share_class_id, order.shares),
        "accountId": order.account_id,
        "shareClassId": order.share_class_id,
        "wireReference": order.wire_reference,
        "createdAt": iso(order.created_at),
        "executedAt": iso(order.executed_at),
        "canceledAt": iso(order.canceled_at),
        "status": order.status,
        # Deprecated identifiers of the (account, share class) pair: the account's id stands in.
        "shareClassAccountId": order.account_id,
        "custodialAccountId": order.account_id,
    }


def withdrawal_body(order: WithdrawalOrder) -> dict[str, Any]:
    return {
        "id": order.id,
        "investorId": order.investor_id,
        "accountId": order.account_id,
        "shareClassId": order.share_class_id,
        "destination": {"type": order.destination_type, "bankAccountId": order.bank_account_id},
        "quantity": describe(order),
        "status": order.status,
        "createdAt": iso(order.created_at),
        "executedAt": iso(order.executed_at),
        "canceledAt": iso(order.canceled_at),
    }


def redemption_body(session: Session, order: WithdrawalOrder) -> dict[str, Any]:
    if order.status == "executed":
        shares, amount = order.shares, order.amount
    else:
        shares, amount = order.requested_shares, order.requested_amount
    value = money(amount, order.currency) if amount is not None else None
    return {
        "id": order.id,
        "investorId": order.investor_id,
        "accountId": order.account_id,
        "shareClassId": order.share_class_id,
        "sharesAmount": shares_text(session, order.share_class_id, shares),
        "amount": value,
        "amountInShareClassCurrency": dict(value) if value is not None else None,
        "destination": {"type": "bank-transfer", "bankAccountId": order.bank_account_id},
        "createdAt": iso(order.created_at),
        "executedAt": iso(order.executed_at),
        "status": order.status,
        "shareClassAccountId": order.account_id,
        "custodialAccountId": order.account_id,
    }


def instant_redemption_body(order: WithdrawalOrder) -> dict[str, Any]:
    paid = order.amount if order.amount is not None else order.requested_amount
    assert paid is not None
    return {
        "id": order.id,
        "investorId": order.investor_id,
        "accountId": order.account_id,
        "shareClassId": order.share_class_id,
        "amount": money(paid, order.currency),
        "createdAt": iso(order.created_at),
        "destination": {"type": "bank-transfer", "bankAccountId": order.bank_account_id},
        "status": "executed" if order.status == "executed" else "created",
    }


def transfer_body(session: Session, order: TransferOrder) -> dict[str, Any]:
    return {
        "id": order.id,
        "fromInvestorId": order.investor_id,
        "fromAccountId": order.from_account_id,
        "toInvestorId": order.investor_id,
        "toAccountId": order.to_account_id,
        "shareClassId": order.share_class_id,
        "amount": money(order.amount, order.currency),
        "sharesAmount": shares_text(session, order.share_class_id, order.shares),
        "status": order.status,
        "createdAt": iso(order.created_at),
        "executedAt": iso(order.executed_at),
    }
