"""``SpikoClient`` and ``AsyncSpikoClient``: the investor API, one attribute per resource group."""

from __future__ import annotations

from types import TracebackType
from typing import Any

import httpx

from spiko.client import resources
from spiko.client.runner import AsyncRunner, RetryPolicy, SyncRunner, api_root

USER_AGENT = "spiko-python"
DEFAULT_TIMEOUT = 30.0


def _http_options(
    base_url: str, auth: httpx.Auth, timeout: float | httpx.Timeout, headers: dict[str, str] | None
) -> dict[str, Any]:
    return {
        "base_url": api_root(base_url) + "/",
        "auth": auth,
        "timeout": timeout,
        "headers": {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})},
        "follow_redirects": False,
    }


class SpikoClient:
    """The investor API, synchronously: ``SpikoClient("https://host", auth=ApiKeyAuth(id, secret))``.

    ``auth`` is an ``ApiKeyAuth`` or an ``OAuth2Session``. ``retry`` sets how 429, 503 and network
    errors are retried. ``transport`` is passed to httpx (proxies, test transports). Use it as a
    context manager, or call ``close()``, to release its connections.
    """

    def __init__(
        self,
        base_url: str,
        auth: httpx.Auth,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        headers: dict[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.http = httpx.Client(transport=transport, **_http_options(base_url, auth, timeout, headers))
        runner = SyncRunner(self.http, retry or RetryPolicy())
        self.investors = resources.Investors(runner)
        self.accounts = resources.Accounts(runner)
        self.deposit_orders = resources.DepositOrders(runner)
        self.subscription_orders = resources.SubscriptionOrders(runner)
        self.withdrawal_orders = resources.WithdrawalOrders(runner)
        self.redemption_orders = resources.RedemptionOrders(runner)
        self.transfer_orders = resources.TransferOrders(runner)
        self.account_transactions = resources.AccountTransactions(runner)
        self.portfolio = resources.Portfolio(runner)
        self.bank_accounts = resources.BankAccounts(runner)
        self.accounting_positions = resources.AccountingPositions(runner)
        self.yields = resources.Yields(runner)
        self.events = resources.Events(runner)
        self.webhook_endpoints = resources.WebhookEndpoints(runner)

    def close(self) -> None:
        """Release the connections."""
        self.http.close()

    def __enter__(self) -> SpikoClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncSpikoClient:
    """The investor API for asyncio: the same resource groups and methods as ``SpikoClient``, awaited."""

    def __init__(
        self,
        base_url: str,
        auth: httpx.Auth,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        headers: dict[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.http = httpx.AsyncClient(transport=transport, **_http_options(base_url, auth, timeout, headers))
        runner = AsyncRunner(self.http, retry or RetryPolicy())
        self.investors = resources.AsyncInvestors(runner)
        self.accounts = resources.AsyncAccounts(runner)
        self.deposit_orders = resources.AsyncDepositOrders(runner)
        self.subscription_orders = resources.AsyncSubscriptionOrders(runner)
        self.withdrawal_orders = resources.AsyncWithdrawalOrders(runner)
        self.redemption_orders = resources.AsyncRedemptionOrders(runner)
        self.transfer_orders = resources.AsyncTransferOrders(runner)
        self.account_transactions = resources.AsyncAccountTransactions(runner)
        self.portfolio = resources.AsyncPortfolio(runner)
        self.bank_accounts = resources.AsyncBankAccounts(runner)
        self.accounting_positions = resources.AsyncAccountingPositions(runner)
        self.yields = resources.AsyncYields(runner)
        self.events = resources.AsyncEvents(runner)
        self.webhook_endpoints = resources.AsyncWebhookEndpoints(runner)

    async def aclose(self) -> None:
        """Release the connections."""
        await self.http.aclose()

    async def __aenter__(self) -> AsyncSpikoClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
