"""The resource layer shared by the sync and async clients: every operation of the investor API
as a function that builds a request description (a ``Call``); the clients only execute them.

Functions are grouped in one class per reference tag. Each takes Python values (``Decimal``,
``date``, models) and returns a ``Call`` that knows its method, path, query, JSON body and how
to parse the answer into a model.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter

from spiko.client.models import (
    Account,
    AccountingPosition,
    AccountTransactionPage,
    Amount,
    BankAccount,
    CreatedDepositOrder,
    CreatedWebhookEndpoint,
    DailyYield,
    DepositInstructions,
    DepositOrder,
    DirectDebitOrder,
    Event,
    EventPage,
    InstantRedemptionOrder,
    Investor,
    Portfolio,
    PortfolioTotal,
    Redelivery,
    RedemptionOrder,
    SubscriptionOrder,
    TransferAmount,
    TransferOrder,
    WebhookDeliveryPage,
    WebhookEndpoint,
    WithdrawalDestination,
    WithdrawalOrder,
    WithdrawalQuantity,
)

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

Parser = Callable[[httpx.Response], T]


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request to send, and how to read its answer.

    ``investor_in`` names where the caller's own investor id goes ("query" or "body") when the
    user did not give one: the client fills it in from ``GET /investors/me`` (fetched once).
    """

    method: Literal["GET", "POST", "PATCH", "DELETE"]
    path: str
    parse: Parser[T]
    operation_id: str
    params: tuple[tuple[str, str], ...] = ()
    json: dict[str, Any] | None = None
    idempotency_key: str | None = None
    investor_in: Literal["query", "body"] | None = None

    def with_investor(self, investor_id: str) -> Call[T]:
        """This call with the caller's investor id filled in where it was left out."""
        if self.investor_in == "query":
            return replace(self, params=(("investorId", investor_id), *self.params), investor_in=None)
        if self.investor_in == "body":
            return replace(self, json={**(self.json or {}), "investorId": investor_id}, investor_in=None)
        return self

    def with_param(self, name: str, value: str) -> Call[T]:
        kept = tuple((key, old) for key, old in self.params if key != name)
        return replace(self, params=(*kept, (name, value)))

    def param(self, name: str) -> str | None:
        return next((value for key, value in self.params if key == name), None)


def _model(cls: type[M]) -> Parser[M]:
    def parse(response: httpx.Response) -> M:
        return cls.model_validate_json(response.content)

    return parse


def _models(cls: type[M]) -> Parser[list[M]]:
    adapter = TypeAdapter(list[cls])  # type: ignore[valid-type]

    def parse(response: httpx.Response) -> list[M]:
        result: list[M] = adapter.validate_json(response.content)
        return result

    return parse


def _content(response: httpx.Response) -> bytes:
    return response.content


def _segment(value: str) -> str:
    # An id is one path segment: never let it add segments or a query.
    return quote(str(value), safe="")


def _day(value: date | str) -> str:
    return value.isoformat() if isinstance(value, date) else date.fromisoformat(value).isoformat()


def _amount(value: Amount | dict[str, Any]) -> dict[str, Any]:
    return (value if isinstance(value, Amount) else Amount.model_validate(value)).to_wire()


def _query(**values: Any) -> tuple[tuple[str, str], ...]:
    pairs: list[tuple[str, str]] = []
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, list | tuple):
            pairs.extend((name, str(item)) for item in value)
        elif isinstance(value, bool):
            pairs.append((name, "true" if value else "false"))
        else:
            pairs.append((name, str(value)))
    return tuple(pairs)


def _deprecated(operation: str, instead: str) -> None:
    # stacklevel 4: past this function, the builder and the client's method, to the caller's line.
    warnings.warn(f"{operation} is deprecated: use {instead}", DeprecationWarning, stacklevel=4)


def _investor(investor_id: str | None) -> Literal["query", "body"] | None:
    return "query" if investor_id is None else None


class Investors:
    """The investor behind the credentials."""

    @staticmethod
    def me() -> Call[Investor]:
        """The authenticated investor (``GET /investors/me``)."""
        return Call("GET", "/investors/me", _model(Investor), "investors.getInvestor")

    @staticmethod
    def list() -> Call[list[Investor]]:
        """Deprecated: a list holding the authenticated investor (``GET /investors/``); use ``me()``."""
        _deprecated("investors.list()", "investors.me()")
        return Call("GET", "/investors/", _models(Investor), "investors.getInvestors")


class Accounts:
    """The investor's accounts and their deposit instructions."""

    @staticmethod
    def create(
        share_class_id: str,
        *,
        name: str | None = None,
        network: str | None = None,
        investor_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Call[Account]:
        """Open an internal account for a share class (``POST /accounts/``)."""
        body: dict[str, Any] = {"type": "internal", "shareClassId": share_class_id}
        if investor_id is not None:
            body["investorId"] = investor_id
        if name is not None:
            body["name"] = name
        if network is not None:
            body["network"] = network
        return Call(
            "POST",
            "/accounts/",
            _model(Account),
            "accounts.createAccount",
            json=body,
            idempotency_key=idempotency_key,
            investor_in=None if investor_id else "body",
        )

    @staticmethod
    def list(investor_id: str | None = None) -> Call[list[Account]]:
        """The investor's accounts (``GET /accounts/``); ``investor_id`` defaults to the caller's."""
        return Call(
            "GET",
            "/accounts/",
            _models(Account),
            "accounts.getAccounts",
            params=_query(investorId=investor_id),
            investor_in=_investor(investor_id),
        )

    @staticmethod
    def get(account_id: str) -> Call[Account]:
        """One account (``GET /accounts/{accountId}``)."""
        return Call("GET", f"/accounts/{_segment(account_id)}", _model(Account), "accounts.getAccount")

    @staticmethod
    def deposit_instructions(
        account_id: str, *, share_class_id: str, subscription_currency: str
    ) -> Call[DepositInstructions]:
        """Virtual IBAN deposit instructions (``GET /accounts/{accountId}/deposit-instructions``)."""
        return Call(
            "GET",
            f"/accounts/{_segment(account_id)}/deposit-instructions",
            _model(DepositInstructions),
            "accounts.getDepositInstructions",
            params=_query(shareClassId=share_class_id, subscriptionCurrency=subscription_currency),
        )


class DepositOrders:
    """Deposits: money wired in, invested in shares at the NAV of the execution day."""

    @staticmethod
    def create(
        account_id: str, share_class_id: str, amount: Amount, *, idempotency_key: str | None = None
    ) -> Call[CreatedDepositOrder]:
        """Create a deposit order; the answer holds the wire instructions (``POST /deposit-orders/``)."""
        body = {"accountId": account_id, "shareClassId": share_class_id, "amount": _amount(amount)}
        return Call(
            "POST",
            "/deposit-orders/",
            _model(CreatedDepositOrder),
            "depositOrders.createDepositOrder",
            json=body,
            idempotency_key=idempotency_key,
        )

    @staticmethod
    def create_direct_debit(
        account_id: str,
        share_class_id: str,
        amount: Amount,
        bank_account_id: str,
        *,
        idempotency_key: str | None = None,
    ) -> Call[DirectDebitOrder]:
        """Create a SEPA direct-debit deposit (``POST /deposit-orders/direct-debit/``)."""
        body = {
            "accountId": account_id,
            "shareClassId": share_class_id,
            "amount": _amount(amount),
            "bankAccountId": bank_account_id,
        }
        return Call(
            "POST",
            "/deposit-orders/direct-debit/",
            _model(DirectDebitOrder),
            "depositOrders.createDepositOrderByDirectDebit",
            json=body,
            idempotency_key=idempotency_key,
        )

    @staticmethod
    def list(investor_id: str | None = None, *, status: str | None = None) -> Call[list[DepositOrder]]:
        """The investor's deposit orders, optionally by ``status`` (``GET /deposit-orders/``)."""
        return Call(
            "GET",
            "/deposit-orders/",
            _models(DepositOrder),
            "depositOrders.getDepositOrders",
            params=_query(investorId=investor_id, status=status),
            investor_in=_investor(investor_id),
        )

    @staticmethod
    def get(deposit_order_id: str) -> Call[DepositOrder]:
        """One deposit order (``GET /deposit-orders/{depositOrderId}``)."""
        return Call(
            "GET",
            f"/deposit-orders/{_segment(deposit_order_id)}",
            _model(DepositOrder),
            "depositOrders.getDepositOrder",
        )

    @staticmethod
    def cancel(deposit_order_id: str, *, idempotency_key: str | None = None) -> Call[DepositOrder]:
        """Cancel a pending, unfunded deposit order (``POST /deposit-orders/{id}/cancel``)."""
        return Call(
            "POST",
            f"/deposit-orders/{_segment(deposit_order_id)}/cancel",
            _model(DepositOrder),
            "depositOrders.cancelDepositOrder",
            idempotency_key=idempotency_key,
        )


class SubscriptionOrders:
    """Deprecated: subscriptions are deposits; use ``deposit_orders``."""

    @staticmethod
    def create(
        account_id: str, share_class_id: str, amount: Amount, *, idempotency_key: str | None = None
    ) -> Call[SubscriptionOrder]:
        """Deprecated: create a subscription order (``POST /subscription-orders/``)."""
        _deprecated("subscription_orders.create()", "deposit_orders.create()")
        body = {"accountId": account_id, "shareClassId": share_class_id, "amount": _amount(amount)}
        return Call(
            "POST",
            "/subscription-orders/",
            _model(SubscriptionOrder),
            "subscriptionOrders.createSubscriptionOrder",
            json=body,
            idempotency_key=idempotency_key,
        )

    @staticmethod
    def create_direct_debit(
        account_id: str,
        share_class_id: str,
        amount: Amount,
        bank_account_id: str,
        *,
        idempotency_key: str | None = None,
    ) -> Call[DirectDebitOrder]:
        """Deprecated: a SEPA direct-debit subscription (``POST /subscription-orders/direct-debit/``)."""
        _deprecated("subscription_orders.create_direct_debit()", "deposit_orders.create_direct_debit()")
        body = {
            "accountId": account_id,
            "shareClassId": share_class_id,
            "amount": _amount(amount),
            "bankAccountId": bank_account_id,
        }
        return Call(
            "POST",
            "/subscription-orders/direct-debit/",
            _model(DirectDebitOrder),
            "subscriptionOrders.createSubscriptionOrderByDirectDebit",
            json=body,
            idempotency_key=idempotency_key,
        )

    @staticmethod
    def list(investor_id: str | None = None, *, status: str | None = None) -> Call[list[SubscriptionOrder]]:
        """Deprecated: the investor's subscription orders (``GET /subscription-orders/``)."""
        _deprecated("subscription_orders.list()", "deposit_orders.list()")
        return Call(
            "GET",
            "/subscription-orders/",
            _models(SubscriptionOrder),
            "subscriptionOrders.getSubscriptionOrders",
            params=_query(investorId=investor_id, status=status),
            investor_in=_investor(investor_id),
        )

    @staticmethod
    def get(subscription_order_id: str) -> Call[SubscriptionOrder]:
        """Deprecated: one subscription order (``GET /subscription-orders/{id}``)."""
        _deprecated("subscription_orders.get()", "deposit_orders.get()")
        return Call(
            "GET",
            f"/subscription-orders/{_segment(subscription_order_id)}",
            _model(SubscriptionOrder),
            "subscriptionOrders.getSubscriptionOrder",
        )


class WithdrawalOrders:
    """Withdrawals: shares sold at the NAV and paid out to one of the investor's bank accounts."""

    @staticmethod
    def create(
        account_id: str,
        share_class_id: str,
        *,
        destination: WithdrawalDestination,
        quantity: WithdrawalQuantity,
        idempotency_key: str | None = None,
    ) -> Call[WithdrawalOrder]:
        """Create a withdrawal order (``POST /withdrawal-orders/``).

        ``destination`` is e.g. ``BankTransfer(bank_account_id=...)``; ``quantity`` is
        ``AmountQuantity(amount=...)``, ``SharesQuantity(shares=...)`` or ``TotalQuantity()``.
        """
        body = {
            "accountId": account_id,
            "shareClassId": share_class_id,
            "destination": destination.to_wire(),
            "quantity": quantity.to_wire(),
        }
        return Call(
            "POST",
            "/withdrawal-orders/",
            _model(WithdrawalOrder),
            "withdrawalOrders.createWithdrawalOrder",
            json=body,
            idempotency_key=idempotency_key,
        )

    @staticmethod
    def list(investor_id: str | None = None, *, status: str | None = None) -> Call[list[WithdrawalOrder]]:
        """The investor's withdrawal orders (``GET /withdrawal-orders/``)."""
        return Call(
            "GET",
            "/withdrawal-orders/",
            _models(WithdrawalOrder),
            "withdrawalOrders.getWithdrawalOrders",
            params=_query(investorId=investor_id, status=status),
            investor_in=_investor(investor_id),
        )

    @staticmethod
    def get(withdrawal_order_id: str) -> Call[WithdrawalOrder]:
        """One withdrawal order (``GET /withdrawal-orders/{withdrawalOrderId}``)."""
        return Call(
            "GET",
            f"/withdrawal-orders/{_segment(withdrawal_order_id)}",
            _model(WithdrawalOrder),
            "withdrawalOrders.getWithdrawalOrder",
        )

    @staticmethod
    def cancel(withdrawal_order_id: str, *, idempotency_key: str | None = None) -> Call[WithdrawalOrder]:
        """Cancel a pending withdrawal order (``POST /withdrawal-orders/{id}/cancel``)."""
        return Call(
            "POST",
            f"/withdrawal-orders/{_segment(withdrawal_order_id)}/cancel",
            _model(WithdrawalOrder),
            "withdrawalOrders.cancelWithdrawalOrder",
            idempotency_key=idempotency_key,
        )


class RedemptionOrders:
    """Deprecated: redemptions are withdrawals; use ``withdrawal_orders``."""

    @staticmethod
    def create(
        account_id: str,
        share_class_id: str,
        amount: Amount,
        bank_account_id: str,
        *,
        idempotency_key: str | None = None,
    ) -> Call[RedemptionOrder]:
        """Deprecated: create a redemption order (``POST /redemption-orders/``)."""
        _deprecated("redemption_orders.create()", "withdrawal_orders.create()")
        body = {
            "accountId": account_id,
            "shareClassId": share_class_id,
            "amount": _amount(amount),
            "bankAccountId": bank_account_id,
        }
        return Call(
            "POST",
            "/redemption-orders/",
            _model(RedemptionOrder),
            "redemptionOrders.createRedemptionOrder",
            json=body,
            idempotency_key=idempotency_key,
        )

    @staticmethod
    def create_instant(
        account_id: str,
        share_class_id: str,
        amount: Amount,
        bank_account_id: str,
        *,
        idempotency_key: str | None = None,
    ) -> Call[InstantRedemptionOrder]:
        """Deprecated: an instant redemption (``POST /redemption-orders/instant``)."""
        _deprecated("redemption_orders.create_instant()", "withdrawal_orders.create()")
        body = {
            "accountId": account_id,
            "shareClassId": share_class_id,
            "amount": _amount(amount),
            "bankAccountId": bank_account_id,
        }
        return Call(
            "POST",
            "/redemption-orders/instant",
            _model(InstantRedemptionOrder),
            "redemptionOrders.createInstantRedemptionOrder",
            json=body,
            idempotency_key=idempotency_key,
        )

    @staticmethod
    def list(investor_id: str | None = None, *, status: str | None = None) -> Call[list[RedemptionOrder]]:
        """Deprecated: the investor's redemption orders (``GET /redemption-orders/``)."""
        _deprecated("redemption_orders.list()", "withdrawal_orders.list()")
        return Call(
            "GET",
            "/redemption-orders/",
            _models(RedemptionOrder),
            "redemptionOrders.getRedemptionOrders",
            params=_query(investorId=investor_id, status=status),
            investor_in=_investor(investor_id),
        )

    @staticmethod
    def get(redemption_order_id: str) -> Call[RedemptionOrder]:
        """Deprecated: one redemption order (``GET /redemption-orders/{id}``)."""
        _deprecated("redemption_orders.get()", "withdrawal_orders.get()")
        return Call(
            "GET",
            f"/redemption-orders/{_segment(redemption_order_id)}",
            _model(RedemptionOrder),
            "redemptionOrders.getRedemptionOrder",
        )


class TransferOrders:
    """Transfers of shares between two accounts of the same investor."""

    @staticmethod
    def create(
        from_account_id: str,
        to_account_id: str,
        share_class_id: str,
        transfer_amount: TransferAmount,
        *,
        investor_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Call[TransferOrder]:
        """Move shares between two of the investor's accounts (``POST /transfer-orders/``).

        ``transfer_amount`` is ``TotalTransfer()``, ``SharesTransfer(shares_amount=...)`` or
        ``AmountTransfer(amount=...)``.
        """
        body: dict[str, Any] = {
            "fromAccountId": from_account_id,
            "toAccountId": to_account_id,
            "shareClassId": share_class_id,
            "transferAmount": transfer_amount.to_wire(),
        }
        if investor_id is not None:
            body["investorId"] = investor_id
        return Call(
            "POST",
            "/transfer-orders/",
            _model(TransferOrder),
            "transferOrders.createTransferOrder",
            json=body,
            idempotency_key=idempotency_key,
            investor_in=None if investor_id else "body",
        )

    @staticmethod
    def list(
        investor_id: str | None = None, *, status: str | Sequence[str] | None = None
    ) -> Call[list[TransferOrder]]:
        """The investor's transfer orders; ``status`` may list several (``GET /transfer-orders/``)."""
        statuses = [status] if isinstance(status, str) else (list(status) if status else None)
        return Call(
            "GET",
            "/transfer-orders/",
            _models(TransferOrder),
            "transferOrders.getTransferOrders",
            params=_query(investorId=investor_id, status=statuses),
            investor_in=_investor(investor_id),
        )

    @staticmethod
    def get(transfer_order_id: str) -> Call[TransferOrder]:
        """One transfer order (``GET /transfer-orders/{transferOrderId}``)."""
        return Call(
            "GET",
            f"/transfer-orders/{_segment(transfer_order_id)}",
            _model(TransferOrder),
            "transferOrders.getTransferOrder",
        )


class AccountTransactions:
    """An account's activity: deposits, withdrawals, transfers and daily yield, one stream."""

    @staticmethod
    def list(
        account_id: str,
        *,
        transaction_type: str | None = None,
        direction: Literal["asc", "desc"] | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        search: str | None = None,
    ) -> Call[AccountTransactionPage]:
        """One page of transactions, newest first unless ``direction="asc"``
        (``GET /account-transactions/``); pass the page's ``next_cursor`` to get the next one."""
        return Call(
            "GET",
            "/account-transactions/",
            _model(AccountTransactionPage),
            "accountTransactions.getAccountTransactions",
            params=_query(
                accountId=account_id,
                transactionType=transaction_type,
                direction=direction,
                limit=limit,
                cursor=cursor,
                search=search,
            ),
        )


class PortfolioOperations:
    """Holdings per account and share class, and balances per account."""

    @staticmethod
    def get(investor_id: str | None = None) -> Call[Portfolio]:
        """Shares, value at the latest NAV and gain per account and share class (``GET /portfolio/``)."""
        return Call(
            "GET",
            "/portfolio/",
            _model(Portfolio),
            "portfolio.getPortfolio",
            params=_query(investorId=investor_id),
            investor_in=_investor(investor_id),
        )

    @staticmethod
    def totals(investor_id: str | None = None, *, currency: str | None = None) -> Call[list[PortfolioTotal]]:
        """Each account's balance in one currency with its native breakdown (``GET /portfolio/totals``)."""
        return Call(
            "GET",
            "/portfolio/totals",
            _models(PortfolioTotal),
            "portfolio.getPortfolioTotals",
            params=_query(investorId=investor_id, currency=currency),
            investor_in=_investor(investor_id),
        )


class BankAccounts:
    """The investor's own bank accounts (withdrawal destinations)."""

    @staticmethod
    def list(investor_id: str | None = None) -> Call[list[BankAccount]]:
        """The investor's bank accounts (``GET /bank-accounts/``)."""
        return Call(
            "GET",
            "/bank-accounts/",
            _models(BankAccount),
            "bankAccounts.getBankAccounts",
            params=_query(investorId=investor_id),
            investor_in=_investor(investor_id),
        )

    @staticmethod
    def get(bank_account_id: str) -> Call[BankAccount]:
        """One bank account (``GET /bank-accounts/{bankAccountId}``)."""
        return Call(
            "GET",
            f"/bank-accounts/{_segment(bank_account_id)}",
            _model(BankAccount),
            "bankAccounts.getBankAccountById",
            # The reference also declares the id as a query parameter.
            params=_query(bankAccountId=bank_account_id),
        )


class AccountingPositions:
    """Daily accounting positions (midnight to midnight UTC) and the PDF account statement."""

    @staticmethod
    def history(
        share_class_id: str, from_: date | str, to: date | str, *, investor_id: str | None = None
    ) -> Call[list[AccountingPosition]]:
        """The investor's positions in a share class, one per day from ``from_`` to ``to``
        (``GET /accounting-positions/history``)."""
        return Call(
            "GET",
            "/accounting-positions/history",
            _models(AccountingPosition),
            "accountingPositions.getInvestorAccountingPositionsHistory",
            params=_query(
                investorId=investor_id, shareClassId=share_class_id, **{"from": _day(from_)}, to=_day(to)
            ),
            investor_in=_investor(investor_id),
        )

    @staticmethod
    def account_history(
        account_id: str, share_class_id: str, from_: date | str, to: date | str
    ) -> Call[list[AccountingPosition]]:
        """One account's positions, one per day (``GET /accounting-positions/account-history``)."""
        return Call(
            "GET",
            "/accounting-positions/account-history",
            _models(AccountingPosition),
            "accountingPositions.getAccountingPositionsHistory",
            params=_query(
                accountId=account_id, shareClassId=share_class_id, **{"from": _day(from_)}, to=_day(to)
            ),
        )

    @staticmethod
    def account_statement(
        share_class_symbol: str,
        from_: date | str,
        to: date | str,
        *,
        account_id: str | None = None,
        locale: str | None = None,
        show_number_of_shares: bool | None = None,
        investor_id: str | None = None,
    ) -> Call[bytes]:
        """The account statement as PDF bytes (``GET /accounting-positions/account-statement``);
        without ``account_id``, for all the investor's accounts."""
        return Call(
            "GET",
            "/accounting-positions/account-statement",
            _content,
            "accountingPositions.downloadAccountStatement",
            params=_query(
                investorId=investor_id,
                accountId=account_id,
                shareClassSymbol=share_class_symbol,
                **{"from": _day(from_)},
                to=_day(to),
                locale=locale,
                showNumberOfShares=show_number_of_shares,
            ),
            investor_in=_investor(investor_id),
        )


class Yields:
    """Daily yield of an account: shares held times the day's NAV change."""

    @staticmethod
    def history(
        account_id: str, share_class_id: str, from_: date | str, to: date | str
    ) -> Call[list[DailyYield]]:
        """Daily yields from ``from_`` to ``to`` (``GET /yields/history``)."""
        return Call(
            "GET",
            "/yields/history",
            _models(DailyYield),
            "yields.getYieldHistory",
            params=_query(
                accountId=account_id, shareClassId=share_class_id, **{"from": _day(from_)}, to=_day(to)
            ),
        )


class Events:
    """What changed, in order: every state change of the investor as an event (an extension)."""

    @staticmethod
    def list(
        *,
        type: str | Sequence[str] | None = None,  # noqa: A002
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        direction: Literal["asc", "desc"] | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Call[EventPage]:
        """One page of events, newest first unless ``direction="asc"`` (``GET /events``); pass
        the page's ``next_cursor`` as ``cursor`` for the next one."""
        types = [type] if isinstance(type, str) else list(type) if type is not None else None
        return Call(
            "GET",
            "/events",
            _model(EventPage),
            "events.list",
            params=_query(
                type=types,
                createdAfter=created_after.isoformat() if created_after else None,
                createdBefore=created_before.isoformat() if created_before else None,
                direction=direction,
                limit=limit,
                cursor=cursor,
            ),
        )

    @staticmethod
    def get(event_id: str) -> Call[Event]:
        """One event (``GET /events/{eventId}``)."""
        return Call("GET", f"/events/{_segment(event_id)}", _model(Event), "events.get")


class _Unset:
    """An argument left out (where ``None`` means something: ``event_types=None`` is every type)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


class WebhookEndpoints:
    """Where events are delivered, signed per Standard Webhooks (an extension)."""

    @staticmethod
    def create(
        url: str, *, event_types: Sequence[str] | None = None, description: str | None = None
    ) -> Call[CreatedWebhookEndpoint]:
        """A new endpoint; ``event_types`` omitted: every type. The answer's ``secret`` is shown once."""
        body: dict[str, Any] = {"url": url}
        if event_types is not None:
            body["eventTypes"] = list(event_types)
        if description is not None:
            body["description"] = description
        return Call(
            "POST", "/webhook-endpoints", _model(CreatedWebhookEndpoint), "webhookEndpoints.create", json=body
        )

    @staticmethod
    def list() -> Call[list[WebhookEndpoint]]:
        return Call("GET", "/webhook-endpoints", _models(WebhookEndpoint), "webhookEndpoints.list")

    @staticmethod
    def get(endpoint_id: str) -> Call[WebhookEndpoint]:
        path = f"/webhook-endpoints/{_segment(endpoint_id)}"
        return Call("GET", path, _model(WebhookEndpoint), "webhookEndpoints.get")

    @staticmethod
    def update(
        endpoint_id: str,
        *,
        url: str | None = None,
        event_types: Sequence[str] | None = UNSET,
        description: str | None = None,
        enabled: bool | None = None,
    ) -> Call[WebhookEndpoint]:
        """Change what is given; ``event_types=None`` subscribes to every type."""
        body: dict[str, Any] = {}
        if url is not None:
            body["url"] = url
        if event_types is not UNSET:
            body["eventTypes"] = list(event_types) if event_types is not None else None
        if description is not None:
            body["description"] = description
        if enabled is not None:
            body["enabled"] = enabled
        return Call(
            "PATCH",
            f"/webhook-endpoints/{_segment(endpoint_id)}",
            _model(WebhookEndpoint),
            "webhookEndpoints.update",
            json=body,
        )

    @staticmethod
    def delete(endpoint_id: str) -> Call[None]:
        return Call(
            "DELETE", f"/webhook-endpoints/{_segment(endpoint_id)}", lambda _: None, "webhookEndpoints.delete"
        )

    @staticmethod
    def rotate_secret(endpoint_id: str) -> Call[CreatedWebhookEndpoint]:
        """A new secret (in the answer); the previous one keeps signing for 24 hours."""
        return Call(
            "POST",
            f"/webhook-endpoints/{_segment(endpoint_id)}/rotate-secret",
            _model(CreatedWebhookEndpoint),
            "webhookEndpoints.rotateSecret",
        )

    @staticmethod
    def redeliver(
        endpoint_id: str, *, event_id: str | None = None, since: datetime | None = None
    ) -> Call[Redelivery]:
        """Queue one event again, or every event since a time; answers how many were queued."""
        body: dict[str, Any] = {}
        if event_id is not None:
            body["eventId"] = event_id
        if since is not None:
            body["since"] = since.isoformat()
        return Call(
            "POST",
            f"/webhook-endpoints/{_segment(endpoint_id)}/redeliver",
            _model(Redelivery),
            "webhookEndpoints.redeliver",
            json=body,
        )

    @staticmethod
    def deliveries(
        endpoint_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> Call[WebhookDeliveryPage]:
        """The delivery log, newest first: each delivery with its attempts."""
        return Call(
            "GET",
            f"/webhook-endpoints/{_segment(endpoint_id)}/deliveries",
            _model(WebhookDeliveryPage),
            "webhookEndpoints.deliveries",
            params=_query(limit=limit, cursor=cursor),
        )


def next_events_page(call: Call[EventPage], page: EventPage) -> Call[EventPage] | None:
    """The call for the page of events after ``page``, or None when it was the last."""
    if not page.next_cursor:
        return None
    if page.next_cursor == call.param("cursor"):
        raise RuntimeError("the server returned the same cursor twice; stopping instead of looping")
    return call.with_param("cursor", page.next_cursor)


def next_page(
    call: Call[AccountTransactionPage], page: AccountTransactionPage
) -> Call[AccountTransactionPage] | None:
    """The call for the page after ``page``, or None when it was the last."""
    if not page.has_more or not page.next_cursor:
        return None
    if page.next_cursor == call.param("cursor"):
        raise RuntimeError("the server returned the same cursor twice; stopping instead of looping")
    return call.with_param("cursor", page.next_cursor)
