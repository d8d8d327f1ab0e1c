"""Resource groups of the sync and async clients, one per reference tag.

Each method is the shared operation of ``spiko.client.operations`` (same signature and
docstring), executed by the client's runner: the sync groups return results, the async groups
return awaitables.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any, Concatenate, ParamSpec, TypeVar

from spiko.client import operations as ops
from spiko.client.models import AccountTransaction, AccountTransactionPage, Event, EventPage
from spiko.client.operations import Call
from spiko.client.runner import AsyncRunner, SyncRunner

P = ParamSpec("P")
T = TypeVar("T")


class SyncResource:
    def __init__(self, runner: SyncRunner) -> None:
        self._runner = runner


class AsyncResource:
    def __init__(self, runner: AsyncRunner) -> None:
        self._runner = runner


def sync_method(build: Callable[P, Call[T]]) -> Callable[Concatenate[SyncResource, P], T]:
    """A sync client method that builds the call and executes it."""

    @functools.wraps(build)
    def method(self: SyncResource, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._runner.execute(build(*args, **kwargs))

    return method


def async_method(
    build: Callable[P, Call[T]],
) -> Callable[Concatenate[AsyncResource, P], Coroutine[Any, Any, T]]:
    """An async client method (a coroutine function) that builds the call and executes it."""

    @functools.wraps(build)
    async def method(self: AsyncResource, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self._runner.execute(build(*args, **kwargs))

    return method


def _sync_pages(
    build: Callable[P, Call[AccountTransactionPage]],
) -> Callable[Concatenate[SyncResource, P], Iterator[AccountTransaction]]:
    @functools.wraps(build)
    def iterate(self: SyncResource, /, *args: P.args, **kwargs: P.kwargs) -> Iterator[AccountTransaction]:
        call: Call[AccountTransactionPage] | None = build(*args, **kwargs)
        while call is not None:
            page = self._runner.execute(call)
            yield from page.items
            call = ops.next_page(call, page)

    iterate.__doc__ = "Every transaction of the account, page after page (same filters as ``list``)."
    return iterate


def _async_pages(
    build: Callable[P, Call[AccountTransactionPage]],
) -> Callable[Concatenate[AsyncResource, P], AsyncIterator[AccountTransaction]]:
    @functools.wraps(build)
    async def iterate(
        self: AsyncResource, /, *args: P.args, **kwargs: P.kwargs
    ) -> AsyncIterator[AccountTransaction]:
        call: Call[AccountTransactionPage] | None = build(*args, **kwargs)
        while call is not None:
            page = await self._runner.execute(call)
            for item in page.items:
                yield item
            call = ops.next_page(call, page)

    iterate.__doc__ = "Every transaction of the account, page after page (same filters as ``list``)."
    return iterate


def _sync_events(
    build: Callable[P, Call[EventPage]],
) -> Callable[Concatenate[SyncResource, P], Iterator[Event]]:
    @functools.wraps(build)
    def iterate(self: SyncResource, /, *args: P.args, **kwargs: P.kwargs) -> Iterator[Event]:
        call: Call[EventPage] | None = build(*args, **kwargs)
        while call is not None:
            page = self._runner.execute(call)
            yield from page.data
            call = ops.next_events_page(call, page)

    iterate.__doc__ = "Every event, page after page (same filters as ``list``)."
    return iterate


def _async_events(
    build: Callable[P, Call[EventPage]],
) -> Callable[Concatenate[AsyncResource, P], AsyncIterator[Event]]:
    @functools.wraps(build)
    async def iterate(self: AsyncResource, /, *args: P.args, **kwargs: P.kwargs) -> AsyncIterator[Event]:
        call: Call[EventPage] | None = build(*args, **kwargs)
        while call is not None:
            page = await self._runner.execute(call)
            for item in page.data:
                yield item
            call = ops.next_events_page(call, page)

    iterate.__doc__ = "Every event, page after page (same filters as ``list``)."
    return iterate


# --- sync ------------------------------------------------------------------------------


class Investors(SyncResource):
    __doc__ = ops.Investors.__doc__
    me = sync_method(ops.Investors.me)
    list = sync_method(ops.Investors.list)


class Accounts(SyncResource):
    __doc__ = ops.Accounts.__doc__
    create = sync_method(ops.Accounts.create)
    list = sync_method(ops.Accounts.list)
    get = sync_method(ops.Accounts.get)
    deposit_instructions = sync_method(ops.Accounts.deposit_instructions)


class DepositOrders(SyncResource):
    __doc__ = ops.DepositOrders.__doc__
    create = sync_method(ops.DepositOrders.create)
    create_direct_debit = sync_method(ops.DepositOrders.create_direct_debit)
    list = sync_method(ops.DepositOrders.list)
    get = sync_method(ops.DepositOrders.get)
    cancel = sync_method(ops.DepositOrders.cancel)


class SubscriptionOrders(SyncResource):
    __doc__ = ops.SubscriptionOrders.__doc__
    create = sync_method(ops.SubscriptionOrders.create)
    create_direct_debit = sync_method(ops.SubscriptionOrders.create_direct_debit)
    list = sync_method(ops.SubscriptionOrders.list)
    get = sync_method(ops.SubscriptionOrders.get)


class WithdrawalOrders(SyncResource):
    __doc__ = ops.WithdrawalOrders.__doc__
    create = sync_method(ops.WithdrawalOrders.create)
    list = sync_method(ops.WithdrawalOrders.list)
    get = sync_method(ops.WithdrawalOrders.get)
    cancel = sync_method(ops.WithdrawalOrders.cancel)


class RedemptionOrders(SyncResource):
    __doc__ = ops.RedemptionOrders.__doc__
    create = sync_method(ops.RedemptionOrders.create)
    create_instant = sync_method(ops.RedemptionOrders.create_instant)
    list = sync_method(ops.RedemptionOrders.list)
    get = sync_method(ops.RedemptionOrders.get)


class TransferOrders(SyncResource):
    __doc__ = ops.TransferOrders.__doc__
    create = sync_method(ops.TransferOrders.create)
    list = sync_method(ops.TransferOrders.list)
    get = sync_method(ops.TransferOrders.get)


class AccountTransactions(SyncResource):
    __doc__ = ops.AccountTransactions.__doc__
    list = sync_method(ops.AccountTransactions.list)
    iter = _sync_pages(ops.AccountTransactions.list)


class Portfolio(SyncResource):
    __doc__ = ops.PortfolioOperations.__doc__
    get = sync_method(ops.PortfolioOperations.get)
    totals = sync_method(ops.PortfolioOperations.totals)


class BankAccounts(SyncResource):
    __doc__ = ops.BankAccounts.__doc__
    list = sync_method(ops.BankAccounts.list)
    get = sync_method(ops.BankAccounts.get)


class AccountingPositions(SyncResource):
    __doc__ = ops.AccountingPositions.__doc__
    history = sync_method(ops.AccountingPositions.history)
    account_history = sync_method(ops.AccountingPositions.account_history)
    account_statement = sync_method(ops.AccountingPositions.account_statement)


class Yields(SyncResource):
    __doc__ = ops.Yields.__doc__
    history = sync_method(ops.Yields.history)


class Events(SyncResource):
    __doc__ = ops.Events.__doc__
    list = sync_method(ops.Events.list)
    iter = _sync_events(ops.Events.list)
    get = sync_method(ops.Events.get)


class WebhookEndpoints(SyncResource):
    __doc__ = ops.WebhookEndpoints.__doc__
    create = sync_method(ops.WebhookEndpoints.create)
    list = sync_method(ops.WebhookEndpoints.list)
    get = sync_method(ops.WebhookEndpoints.get)
    update = sync_method(ops.WebhookEndpoints.update)
    delete = sync_method(ops.WebhookEndpoints.delete)
    rotate_secret = sync_method(ops.WebhookEndpoints.rotate_secret)
    redeliver = sync_method(ops.WebhookEndpoints.redeliver)
    deliveries = sync_method(ops.WebhookEndpoints.deliveries)


# --- async -----------------------------------------------------------------------------


class AsyncInvestors(AsyncResource):
    __doc__ = ops.Investors.__doc__
    me = async_method(ops.Investors.me)
    list = async_method(ops.Investors.list)


class AsyncAccounts(AsyncResource):
    __doc__ = ops.Accounts.__doc__
    create = async_method(ops.Accounts.create)
    list = async_method(ops.Accounts.list)
    get = async_method(ops.Accounts.get)
    deposit_instructions = async_method(ops.Accounts.deposit_instructions)


class AsyncDepositOrders(AsyncResource):
    __doc__ = ops.DepositOrders.__doc__
    create = async_method(ops.DepositOrders.create)
    create_direct_debit = async_method(ops.DepositOrders.create_direct_debit)
    list = async_method(ops.DepositOrders.list)
    get = async_method(ops.DepositOrders.get)
    cancel = async_method(ops.DepositOrders.cancel)


class AsyncSubscriptionOrders(AsyncResource):
    __doc__ = ops.SubscriptionOrders.__doc__
    create = async_method(ops.SubscriptionOrders.create)
    create_direct_debit = async_method(ops.SubscriptionOrders.create_direct_debit)
    list = async_method(ops.SubscriptionOrders.list)
    get = async_method(ops.SubscriptionOrders.get)


class AsyncWithdrawalOrders(AsyncResource):
    __doc__ = ops.WithdrawalOrders.__doc__
    create = async_method(ops.WithdrawalOrders.create)
    list = async_method(ops.WithdrawalOrders.list)
    get = async_method(ops.WithdrawalOrders.get)
    cancel = async_method(ops.WithdrawalOrders.cancel)


class AsyncRedemptionOrders(AsyncResource):
    __doc__ = ops.RedemptionOrders.__doc__
    create = async_method(ops.RedemptionOrders.create)
    create_instant = async_method(ops.RedemptionOrders.create_instant)
    list = async_method(ops.RedemptionOrders.list)
    get = async_method(ops.RedemptionOrders.get)


class AsyncTransferOrders(AsyncResource):
    __doc__ = ops.TransferOrders.__doc__
    create = async_method(ops.TransferOrders.create)
    list = async_method(ops.TransferOrders.list)
    get = async_method(ops.TransferOrders.get)


class AsyncAccountTransactions(AsyncResource):
    __doc__ = ops.AccountTransactions.__doc__
    list = async_method(ops.AccountTransactions.list)
    iter = _async_pages(ops.AccountTransactions.list)


class AsyncPortfolio(AsyncResource):
    __doc__ = ops.PortfolioOperations.__doc__
    get = async_method(ops.PortfolioOperations.get)
    totals = async_method(ops.PortfolioOperations.totals)


class AsyncBankAccounts(AsyncResource):
    __doc__ = ops.BankAccounts.__doc__
    list = async_method(ops.BankAccounts.list)
    get = async_method(ops.BankAccounts.get)


class AsyncAccountingPositions(AsyncResource):
    __doc__ = ops.AccountingPositions.__doc__
    history = async_method(ops.AccountingPositions.history)
    account_history = async_method(ops.AccountingPositions.account_history)
    account_statement = async_method(ops.AccountingPositions.account_statement)


class AsyncYields(AsyncResource):
    __doc__ = ops.Yields.__doc__
    history = async_method(ops.Yields.history)


class AsyncEvents(AsyncResource):
    __doc__ = ops.Events.__doc__
    list = async_method(ops.Events.list)
    iter = _async_events(ops.Events.list)
    get = async_method(ops.Events.get)


class AsyncWebhookEndpoints(AsyncResource):
    __doc__ = ops.WebhookEndpoints.__doc__
    create = async_method(ops.WebhookEndpoints.create)
    list = async_method(ops.WebhookEndpoints.list)
    get = async_method(ops.WebhookEndpoints.get)
    update = async_method(ops.WebhookEndpoints.update)
    delete = async_method(ops.WebhookEndpoints.delete)
    rotate_secret = async_method(ops.WebhookEndpoints.rotate_secret)
    redeliver = async_method(ops.WebhookEndpoints.redeliver)
    deliveries = async_method(ops.WebhookEndpoints.deliveries)
