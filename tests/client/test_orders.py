"""Accounts, bank accounts and every order group through the SDK, against a real server."""

from __future__ import annotations

import asyncio
import warnings
from decimal import Decimal

import pytest

from spiko.client import (
    Account,
    Amount,
    AmountQuantity,
    ApiKeyAuth,
    ApplicationError,
    AsyncSpikoClient,
    BankTransfer,
    CollectionNotCancelableError,
    DepositNotAllowedError,
    ForbiddenError,
    HttpApiDecodeError,
    InsufficientBalanceError,
    NotFoundError,
    SharesQuantity,
    SharesTransfer,
    SpikoClient,
    TotalQuantity,
    TotalTransfer,
)
from tests.world import World


def eur(value: str) -> Amount:
    return Amount(value=Decimal(value), currency="EUR")


def invest(client: SpikoClient, market: World, account_id: str, value: str) -> str:
    """Deposit, fund (operator) and execute (operator); the deposit order's id."""
    created = client.deposit_orders.create(account_id, market.id("EUTBL"), eur(value))
    market.fund(created.wire_instructions.reference)
    market.execute()
    return created.id


def test_accounts_create_list_get_and_deposit_instructions(market, client, investor):
    account = client.accounts.create(market.id("EUTBL"), name="Treasury")
    assert isinstance(account, Account)
    assert account.investor_id == investor.investor_id
    assert account.name == "Treasury"
    assert account.type == "internal"
    assert [item.id for item in client.accounts.list()] == [account.id]
    assert client.accounts.list(investor.investor_id)[0].id == account.id
    assert client.accounts.get(account.id) == account

    instructions = client.accounts.deposit_instructions(
        account.id, share_class_id=market.id("EUTBL"), subscription_currency="EUR"
    )
    assert instructions.share_class_currency == "EUR"
    for virtual in instructions.accounts:
        assert virtual.rails
        iban = virtual.account_details.iban
        if iban:  # ISO 13616: move the first four characters to the end, letters to numbers, mod 97 = 1
            digits = "".join(str(int(char, 36)) for char in iban[4:] + iban[:4])
            assert int(digits) % 97 == 1


def test_accounts_of_someone_else_are_out_of_reach(market, server, client):
    other = server.investor("Mallory Holdings")
    with server.client(other) as theirs:
        their_account = theirs.accounts.create(market.id("EUTBL"))
    with pytest.raises(NotFoundError):
        client.accounts.get(their_account.id)
    with pytest.raises(ForbiddenError) as caught:
        client.accounts.list(other.investor_id)
    assert caught.value.status == 403


def test_bank_accounts_list_and_get(market, server, client, investor):
    added = market.bank_account(investor)
    listed = client.bank_accounts.list()
    assert [item.id for item in listed] == [added]
    bank = client.bank_accounts.get(added)
    assert bank.investor_id == investor.investor_id
    assert bank.details.account_number.replace(" ", "") == "DE89370400440532013000"
    other = server.investor("Someone Else")
    with server.client(other) as theirs, pytest.raises(NotFoundError):
        theirs.bank_accounts.get(added)


def test_a_share_class_closed_to_api_deposits_raises_deposit_not_allowed(market, server, client):
    account = client.accounts.create(market.id("EUTBL"))
    server.cli("share-classes", "api-deposits", "EUTBL", "off")
    try:
        with pytest.raises(DepositNotAllowedError) as caught:
            client.deposit_orders.create(account.id, market.id("EUTBL"), eur("2500.00"))
    finally:
        server.cli("share-classes", "api-deposits", "EUTBL", "on")
    assert caught.value.status == 400
    assert caught.value.share_class_symbol == "EUTBL"
    assert caught.value.share_class_id == market.id("EUTBL")
    assert client.deposit_orders.list() == []


def test_deposit_orders_lifecycle_and_cancel(market, client, investor):
    account = client.accounts.create(market.id("EUTBL"))
    created = client.deposit_orders.create(account.id, market.id("EUTBL"), eur("2500.50"))
    assert created.status == "created"
    order = client.deposit_orders.get(created.id)
    assert order.status == "pending"
    assert order.amount.value == Decimal("2500.50") and isinstance(order.amount.value, Decimal)
    assert order.wire_reference == created.wire_instructions.reference
    assert [item.id for item in client.deposit_orders.list(status="pending")] == [created.id]
    assert client.deposit_orders.list(status="executed") == []

    canceled = client.deposit_orders.cancel(created.id)
    assert canceled.status == "canceled" and canceled.canceled_at is not None
    with pytest.raises(CollectionNotCancelableError) as caught:
        client.deposit_orders.cancel(created.id)
    assert caught.value.status == 409

    executed_id = invest(client, market, account.id, "10000.00")
    executed = client.deposit_orders.get(executed_id)
    assert executed.status == "executed" and executed.executed_at is not None
    with pytest.raises(CollectionNotCancelableError):
        client.deposit_orders.cancel(executed_id)


def test_deposit_rules_raise_application_errors(market, client):
    account = client.accounts.create(market.id("EUTBL"))
    with pytest.raises(ApplicationError) as caught:
        client.deposit_orders.create(
            account.id, market.id("EUTBL"), Amount(value=Decimal("5000"), currency="USD")
        )
    assert caught.value.custom_error_code == "CurrencyNotSupported"
    assert caught.value.status == 400
    with pytest.raises((ApplicationError, HttpApiDecodeError)):
        client.deposit_orders.create(account.id, market.id("EUTBL"), eur("0.01"))


def test_direct_debit_deposit(market, client, investor):
    account = client.accounts.create(market.id("EUTBL"))
    bank = market.bank_account(investor)
    order = client.deposit_orders.create_direct_debit(account.id, market.id("EUTBL"), eur("5000"), bank)
    assert order.bank_account_id == bank
    assert order.amount.value == Decimal("5000")


def test_withdrawal_orders_create_get_list_cancel_and_insufficient_balance(market, client, investor):
    account = client.accounts.create(market.id("EUTBL"))
    bank = market.bank_account(investor)
    invest(client, market, account.id, "10000.00")

    order = client.withdrawal_orders.create(
        account.id,
        market.id("EUTBL"),
        destination=BankTransfer(bank_account_id=bank),
        quantity=SharesQuantity(shares=Decimal("1000")),
    )
    assert order.status == "pending"
    assert client.withdrawal_orders.get(order.id).quantity == SharesQuantity(shares=Decimal("1000"))
    assert [item.id for item in client.withdrawal_orders.list(status="pending")] == [order.id]
    assert client.withdrawal_orders.cancel(order.id).status == "canceled"

    with pytest.raises(InsufficientBalanceError) as caught:
        client.withdrawal_orders.create(
            account.id,
            market.id("EUTBL"),
            destination=BankTransfer(bank_account_id=bank),
            quantity=AmountQuantity(amount=eur("1000000")),
        )
    assert caught.value.status == 400
    assert caught.value.payload["type"]

    total = client.withdrawal_orders.create(
        account.id,
        market.id("EUTBL"),
        destination=BankTransfer(bank_account_id=bank),
        quantity=TotalQuantity(),
    )
    market.execute()
    assert client.withdrawal_orders.get(total.id).status == "executed"


def test_transfer_orders_between_own_accounts(market, client, investor):
    source = client.accounts.create(market.id("EUTBL"), name="Main")
    target = client.accounts.create(market.id("EUTBL"), name="Reserve")
    invest(client, market, source.id, "10000.00")
    transfer = client.transfer_orders.create(
        source.id, target.id, market.id("EUTBL"), SharesTransfer(shares_amount=Decimal("500"))
    )
    assert transfer.shares_amount == Decimal("500")
    assert transfer.from_account_id == source.id and transfer.to_account_id == target.id
    assert client.transfer_orders.get(transfer.id) == transfer
    assert [item.id for item in client.transfer_orders.list()] == [transfer.id]
    assert client.transfer_orders.list(status=["pending", "executed"])
    rest = client.transfer_orders.create(source.id, target.id, market.id("EUTBL"), TotalTransfer())
    assert rest.shares_amount == Decimal("9566.63158") - Decimal("500")


def test_deprecated_subscription_orders_warn_and_work(market, client, investor):
    account = client.accounts.create(market.id("EUTBL"))
    with pytest.warns(DeprecationWarning, match="deposit_orders.create"):
        order = client.subscription_orders.create(account.id, market.id("EUTBL"), eur("2000"))
    with pytest.warns(DeprecationWarning):
        assert client.subscription_orders.get(order.id).amount.value == Decimal("2000")
    with pytest.warns(DeprecationWarning):
        assert [item.id for item in client.subscription_orders.list()] == [order.id]
    bank = market.bank_account(investor)
    with pytest.warns(DeprecationWarning):
        debit = client.subscription_orders.create_direct_debit(
            account.id, market.id("EUTBL"), eur("3000"), bank
        )
    assert debit.bank_account_id == bank


def test_deprecated_redemption_orders_warn_and_work(market, client, investor):
    account = client.accounts.create(market.id("EUTBL"))
    bank = market.bank_account(investor)
    invest(client, market, account.id, "10000.00")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        order = client.redemption_orders.create(account.id, market.id("EUTBL"), eur("1000"), bank)
        assert client.redemption_orders.get(order.id).id == order.id
        assert order.id in [item.id for item in client.redemption_orders.list()]
        instant = client.redemption_orders.create_instant(account.id, market.id("EUTBL"), eur("500"), bank)
    assert instant.amount.value == Decimal("500")
    assert len(caught) == 4 and all(issubclass(item.category, DeprecationWarning) for item in caught)


def test_async_client_against_the_same_server(market, server, investor):
    async def main() -> tuple[str, list[str], str]:
        auth = ApiKeyAuth(investor.client_id, investor.client_secret)
        async with AsyncSpikoClient(server.url, auth=auth, transport=server.transport) as client:
            account = await client.accounts.create(market.id("EUTBL"), name="Async")
            listed = await client.accounts.list()
            created = await client.deposit_orders.create(account.id, market.id("EUTBL"), eur("1500"))
            order = await client.deposit_orders.get(created.id)
            return account.id, [item.id for item in listed], order.status

    account_id, listed, status = asyncio.run(main())
    assert listed == [account_id]
    assert status == "pending"


def test_an_oauth_session_drives_the_same_operations(market, server, investor):
    from spiko.client import OAuth2Session

    redirect_uri = "http://127.0.0.1:8765/callback"
    app = server.cli("oauth-clients", "create", "--name", "Cash Manager", "--redirect-uri", redirect_uri)
    session = OAuth2Session(
        issuer=server.url,
        client_id=app["client_id"],
        client_secret=app["client_secret"],
        redirect_uri=redirect_uri,
        transport=server.transport,
    )
    browser = server.browser()
    try:
        browser.sign_in(investor.email, investor.password)
        session.exchange(browser.authorize(session.authorization_url()))
    finally:
        browser.close()
    with SpikoClient(server.url, auth=session, transport=server.transport) as client:
        account = client.accounts.create(market.id("EUTBL"), name="Via OAuth")
        created = client.deposit_orders.create(account.id, market.id("EUTBL"), eur("1200"))
        assert client.deposit_orders.get(created.id).account_id == account.id
        assert client.accounts.get(account.id).investor_id == investor.investor_id
        assert client.bank_accounts.list() == []
