"""Retries of a POST carry the same Idempotency-Key, so the app acts once even when the network
loses its first answer."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from spiko.client import (
    Amount,
    ApiKeyAuth,
    BankTransfer,
    RetryPolicy,
    SharesQuantity,
    SpikoClient,
    SpikoConnectionError,
    SpikoError,
)
from tests.client.conftest import Server
from tests.conftest import InvestorFixture
from tests.world import World

FAST = RetryPolicy(max_retries=3, backoff=0.01, max_backoff=0.05)


class LossyNetwork(httpx.BaseTransport):
    """Delivers requests to the server, then loses the answers of the first ``drop`` POSTs."""

    def __init__(self, inner: httpx.BaseTransport, drop: int) -> None:
        self.inner = inner
        self.drop = drop
        self.posts: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method == "POST":
            self.posts.append(request)
            if self.drop > 0:
                self.drop -= 1
                response.read()  # the server has acted and answered...
                response.close()
                raise httpx.ReadError("connection reset by peer", request=request)  # ...but it never arrives
        return response

    def close(self) -> None:
        self.inner.close()


def lossy_client(server: Server, investor: InvestorFixture, network: LossyNetwork) -> SpikoClient:
    auth = ApiKeyAuth(investor.client_id, investor.client_secret)
    return SpikoClient(server.url, auth=auth, retry=FAST, transport=network)


def eur(value: str) -> Amount:
    return Amount(value=Decimal(value), currency="EUR")


def test_a_deposit_whose_answer_is_lost_is_created_once(market: World, server, client, investor):
    account = client.accounts.create(market.id("EUTBL"))
    network = LossyNetwork(server.network(), drop=2)
    with lossy_client(server, investor, network) as lossy:
        created = lossy.deposit_orders.create(account.id, market.id("EUTBL"), eur("2000"))
    assert len(network.posts) == 3
    keys = {request.headers["Idempotency-Key"] for request in network.posts}
    assert len(keys) == 1
    orders = client.deposit_orders.list()
    assert [order.id for order in orders] == [created.id]  # acted once
    assert orders[0].wire_reference == created.wire_instructions.reference


def test_without_the_lossy_network_two_creates_are_two_orders(market: World, client):
    account = client.accounts.create(market.id("EUTBL"))
    client.deposit_orders.create(account.id, market.id("EUTBL"), eur("2000"))
    client.deposit_orders.create(account.id, market.id("EUTBL"), eur("2000"))
    assert len(client.deposit_orders.list()) == 2  # each call has its own key


def test_an_account_whose_answer_is_lost_is_opened_once(market: World, server, client, investor):
    network = LossyNetwork(server.network(), drop=1)
    with lossy_client(server, investor, network) as lossy:
        account = lossy.accounts.create(market.id("EUTBL"), name="Once")
    assert [item.id for item in client.accounts.list()] == [account.id]


def test_a_withdrawal_whose_answer_is_lost_reserves_shares_once(market: World, server, client, investor):
    account = client.accounts.create(market.id("EUTBL"))
    bank = market.bank_account(investor)
    deposit = client.deposit_orders.create(account.id, market.id("EUTBL"), eur("10000"))
    market.fund(deposit.wire_instructions.reference)
    market.execute()
    network = LossyNetwork(server.network(), drop=1)
    with lossy_client(server, investor, network) as lossy:
        order = lossy.withdrawal_orders.create(
            account.id,
            market.id("EUTBL"),
            destination=BankTransfer(bank_account_id=bank),
            quantity=SharesQuantity(shares=Decimal("9000")),
        )
    assert [item.id for item in client.withdrawal_orders.list()] == [order.id]


def test_a_cancel_whose_answer_is_lost_is_retried_safely(market: World, server, client, investor):
    account = client.accounts.create(market.id("EUTBL"))
    created = client.deposit_orders.create(account.id, market.id("EUTBL"), eur("2000"))
    network = LossyNetwork(server.network(), drop=1)
    with lossy_client(server, investor, network) as lossy:
        canceled = lossy.deposit_orders.cancel(created.id)
    assert canceled.status == "canceled"  # the stored answer, not "no longer cancelable"


def test_the_same_key_twice_returns_the_first_order_and_another_body_is_refused(market: World, client):
    account = client.accounts.create(market.id("EUTBL"))
    first = client.deposit_orders.create(
        account.id, market.id("EUTBL"), eur("2000"), idempotency_key="order-42-abc"
    )
    again = client.deposit_orders.create(
        account.id, market.id("EUTBL"), eur("2000"), idempotency_key="order-42-abc"
    )
    assert again.id == first.id
    with pytest.raises(SpikoError) as caught:
        client.deposit_orders.create(
            account.id, market.id("EUTBL"), eur("3000"), idempotency_key="order-42-abc"
        )
    assert caught.value.status is not None and 400 <= caught.value.status < 500
    assert len(client.deposit_orders.list()) == 1


def test_when_every_answer_is_lost_the_error_says_so(market: World, server, client, investor):
    account = client.accounts.create(market.id("EUTBL"))
    network = LossyNetwork(server.network(), drop=10)
    with lossy_client(server, investor, network) as lossy, pytest.raises(SpikoConnectionError):
        lossy.deposit_orders.create(account.id, market.id("EUTBL"), eur("2000"))
    assert len(network.posts) == 1 + FAST.max_retries
    assert len(client.deposit_orders.list()) == 1  # still only one, whatever the client saw
