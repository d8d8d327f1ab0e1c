"""Account Transactions (reference tag "Account Transactions"): one page of orders and yield accruals."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal, TypedDict

from spiko.db.models.funds import ShareClass
from spiko.db.models.ledger import ShareMovement
from spiko.db.models.orders import DepositOrder, TransferOrder, WithdrawalOrder
from spiko.db.models.reporting import DailyPosition as DailyPositionRow
from spiko.errors import InvariantError
from spiko.presenters.formats import Money, decimal_text, money, shares_text, timestamp
from spiko.services.reporting.transactions import Page, Transaction


class _Common(TypedDict):
    createdAt: str
    shareClassId: str
    shareClassSymbol: str
    shareDecimals: int
    accountId: str
    applicableExchangeRateConversion: None
    id: str


class _Bank(TypedDict):
    bankAccountName: str | None
    bankAccountNumber: str | None
    bankAccountBic: str | None


class DepositItem(_Common, _Bank):
    sharesAmount: str | None
    netAssetValue: Money | None
    amount: Money
    confirmedAt: str | None
    status: str
    orderType: Literal["Subscription"]
    method: str
    wireReference: str
    accountNumber: str
    bic: str
    intermediaryBic: str | None
    intermerdiaryBic: str | None
    stablecoinCode: None
    stablecoinNetwork: None
    stablecoinTransactionHash: None
    stablecoinAmount: None


class _WithdrawalCommon(_Common, _Bank):
    orderType: Literal["Redemption"]
    scheduled: None
    shareClassNetAssetValueAtCreation: Money
    exchangeRateAtCreation: None
    recurringWithdrawalScheduleId: None
    destinationWalletNetwork: None
    destinationWalletAddress: None
    stablecoinCode: None
    stablecoinTransactionHash: None


class WithdrawalItem(_WithdrawalCommon):
    sharesAmount: str | None
    netAssetValue: Money
    amount: Money
    confirmedAt: str | None
    status: str


class CanceledWithdrawalItem(_WithdrawalCommon):
    sharesAmount: str | None
    netAssetValue: None
    amount: Money | None
    confirmedAt: None
    status: Literal["canceled"]
    amountAtCreation: Money


class _Transfer(_Common):
    sharesAmount: str
    netAssetValue: Money
    amount: Money
    confirmedAt: str | None
    status: str


class TransferFromItem(_Transfer):
    orderType: Literal["TransferFrom"]
    toInvestorName: str


class TransferToItem(_Transfer):
    orderType: Literal["TransferTo"]
    fromInvestorName: str


class YieldItem(_Common):
    sharesAmount: str
    netAssetValue: Money
    amount: Money
    confirmedAt: str
    orderType: Literal["Yield"]
    status: Literal["executed"]
    yieldNavId: str
    yieldDay: str


TransactionItem = (
    DepositItem | WithdrawalItem | CanceledWithdrawalItem | TransferFromItem | TransferToItem | YieldItem
)


class AccountTransactionsBody(TypedDict):
    items: list[TransactionItem]
    nextCursor: str | None
    hasMore: bool


def _nav(share_class: ShareClass, value: Decimal) -> Money:
    return {"value": decimal_text(value, share_class.nav_decimals), "currency": share_class.currency}


def _common(item: Transaction, created_at: datetime, item_id: str) -> _Common:
    share_class = item.share_class
    return {
        "createdAt": timestamp(created_at),
        "shareClassId": share_class.id,
        "shareClassSymbol": share_class.symbol,
        "shareDecimals": share_class.share_decimals,
        "accountId": item.account_id,
        "applicableExchangeRateConversion": None,
        "id": item_id,
    }


def _bank(item: Transaction) -> _Bank:
    bank = item.bank_account
    return {
        "bankAccountName": bank.name if bank else None,
        "bankAccountNumber": bank.iban if bank else None,
        "bankAccountBic": bank.bic if bank else None,
    }


def _deposit(item: Transaction, order: DepositOrder) -> DepositItem:
    share_class = item.share_class
    if order.status == "executed":
        status = "executed"
    elif order.status == "canceled":
        status = "canceled"
    elif order.funded_at is None:
        status = "pending-wire"
    else:
        status = "pending-execution"
    executed = order.status == "executed"
    return {
        **_common(item, order.created_at, order.id),
        "sharesAmount": shares_text(order.shares, share_class.share_decimals) if executed else None,
        "netAssetValue": _nav(share_class, order.nav) if executed and order.nav else None,
        "amount": money(order.amount, order.currency),
        "confirmedAt": timestamp(order.executed_at) if executed else None,
        "status": status,
        "orderType": "Subscription",
        "method": "collection",
        "wireReference": order.wire_reference,
        "accountNumber": share_class.bank_account_number,
        "bic": share_class.bank_account_bic,
        "intermediaryBic": share_class.bank_account_intermediary_bic,
        "intermerdiaryBic": share_class.bank_account_intermediary_bic,
        **_bank(item),
        "stablecoinCode": None,
        "stablecoinNetwork": None,
        "stablecoinTransactionHash": None,
        "stablecoinAmount": None,
    }


def _withdrawal(item: Transaction, order: WithdrawalOrder) -> WithdrawalItem | CanceledWithdrawalItem:
    share_class = item.share_class
    nav_at_creation = item.nav_at_creation if item.nav_at_creation is not None else Decimal(0)
    requested_shares = order.requested_shares if order.requested_shares is not None else order.reserved_shares
    estimate = item.estimate
    common: _WithdrawalCommon = {
        **_common(item, order.created_at, order.id),
        "orderType": "Redemption",
        "scheduled": None,
        "shareClassNetAssetValueAtCreation": _nav(share_class, nav_at_creation),
        "exchangeRateAtCreation": None,
        **_bank(item),
        "recurringWithdrawalScheduleId": None,
        "destinationWalletNetwork": None,
        "destinationWalletAddress": None,
        "stablecoinCode": None,
        "stablecoinTransactionHash": None,
    }
    if order.status == "canceled":
        return {
            **common,
            "sharesAmount": shares_text(order.requested_shares, share_class.share_decimals),
            "netAssetValue": None,
            "amount": money(order.requested_amount, order.currency) if order.requested_amount else None,
            "confirmedAt": None,
            "status": "canceled",
            "amountAtCreation": money(estimate, order.currency),
        }
    executed = order.status == "executed"
    shares: Decimal | None
    if executed:
        shares, nav, amount = order.shares, order.nav or nav_at_creation, order.amount or Decimal(0)
    else:
        shares, nav, amount = requested_shares, nav_at_creation, estimate
    return {
        **common,
        "sharesAmount": shares_text(shares, share_class.share_decimals),
        "netAssetValue": _nav(share_class, nav),
        "amount": money(amount, order.currency),
        "confirmedAt": timestamp(order.executed_at) if executed else None,
        "status": "executed" if executed else "pending-execution",
    }


def _deposit_correction(item: Transaction, row: ShareMovement, order: DepositOrder) -> DepositItem:
    """One entry of a deposit's correction: a subscription executed when the correction was booked,
    its shares and amount negated on the reversal."""
    share_class = item.share_class
    return {
        **_deposit(item, order),
        **_common(item, row.executed_at, row.id),
        "sharesAmount": shares_text(row.shares, share_class.share_decimals),
        "netAssetValue": _nav(share_class, row.nav),
        "amount": money(row.amount, row.currency),
        "confirmedAt": timestamp(row.executed_at),
        "status": "executed",
    }


def _withdrawal_correction(item: Transaction, row: ShareMovement, order: WithdrawalOrder) -> WithdrawalItem:
    """One entry of a withdrawal's correction: a redemption executed when the correction was booked,
    its shares and amount negated on the reversal."""
    share_class = item.share_class
    common: _WithdrawalCommon = {
        **_common(item, row.executed_at, row.id),
        "orderType": "Redemption",
        "scheduled": None,
        "shareClassNetAssetValueAtCreation": _nav(share_class, row.nav),
        "exchangeRateAtCreation": None,
        **_bank(item),
        "recurringWithdrawalScheduleId": None,
        "destinationWalletNetwork": None,
        "destinationWalletAddress": None,
        "stablecoinCode": None,
        "stablecoinTransactionHash": None,
    }
    return {
        **common,
        "sharesAmount": shares_text(-row.shares, share_class.share_decimals),  # redeemed: positive
        "netAssetValue": _nav(share_class, row.nav),
        "amount": money(row.amount, row.currency),
        "confirmedAt": timestamp(row.executed_at),
        "status": "executed",
    }


def _transfer(item: Transaction, order: TransferOrder) -> _Transfer:
    share_class = item.share_class
    return {
        **_common(item, order.created_at, order.id),
        "sharesAmount": shares_text(order.shares, share_class.share_decimals),
        "netAssetValue": _nav(share_class, order.nav),
        "amount": money(order.amount, order.currency),
        "confirmedAt": timestamp(order.executed_at),
        "status": order.status if order.status in ("executed", "canceled", "failed") else "pending-execution",
    }


def _yield(item: Transaction, row: DailyPositionRow) -> YieldItem:
    share_class = item.share_class
    if row.accrual_at is None or row.nav is None or row.nav_id is None:
        raise InvariantError(f"daily position {row.id} is listed as a yield accrual without its NAV")
    return {
        **_common(item, row.accrual_at, row.id),
        "sharesAmount": shares_text(row.shares, share_class.share_decimals),
        "netAssetValue": _nav(share_class, row.nav),
        "amount": money(row.yield_, share_class.currency),
        "confirmedAt": timestamp(row.accrual_at),
        "orderType": "Yield",
        "status": "executed",
        "yieldNavId": row.nav_id,
        "yieldDay": row.day.isoformat(),
    }


def transaction(item: Transaction) -> TransactionItem:
    row = item.row
    if isinstance(row, ShareMovement):
        if isinstance(item.order, DepositOrder):
            return _deposit_correction(item, row, item.order)
        if isinstance(item.order, WithdrawalOrder):
            return _withdrawal_correction(item, row, item.order)
        raise InvariantError(f"correction entry {row.id} is listed without its order")
    if isinstance(row, DepositOrder):
        return _deposit(item, row)
    if isinstance(row, WithdrawalOrder):
        return _withdrawal(item, row)
    if isinstance(row, TransferOrder):
        if item.source == "transfer_out":
            return {**_transfer(item, row), "orderType": "TransferFrom", "toInvestorName": item.investor_name}
        return {**_transfer(item, row), "orderType": "TransferTo", "fromInvestorName": item.investor_name}
    return _yield(item, row)


def account_transactions(page: Page, next_cursor: str | None) -> AccountTransactionsBody:
    return {
        "items": [transaction(item) for item in page.items],
        "nextCursor": next_cursor,
        "hasMore": page.has_more,
    }
