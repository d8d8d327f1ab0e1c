"""Typed request and response models of the investor API (pydantic v2).

Attributes are snake_case; the wire names are camelCase. Money and share quantities are
``Decimal`` (sent as strings, never floats). Response models keep fields they do not know
(``model_extra``), so a newer server never breaks an older SDK.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel


def _refuse_float(value: Any) -> Any:
    if isinstance(value, float):
        raise ValueError("amounts and shares must be Decimal, int or str, never float")
    return value


Money = Annotated[Decimal, BeforeValidator(_refuse_float)]
"""A decimal amount or share quantity: ``Decimal``, ``int`` or a decimal string, never a float."""


class Model(BaseModel):
    """Base of every model: camelCase on the wire, snake_case in Python, unknown fields kept."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, alias_generator=to_camel)

    def to_wire(self) -> dict[str, Any]:
        """The JSON body the API expects (camelCase, decimals as strings, unset options left out)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class Amount(Model):
    """An amount of money: ``Amount(value=Decimal("1000.00"), currency="EUR")``."""

    value: Money
    currency: str


class PeriodAmount(Model):
    """An amount for one day (``of_day``) and its running ``total``."""

    of_day: Amount
    total: Amount


# --- Investors -------------------------------------------------------------------------


class TaxInformation(Model):
    tax_identification_number: str
    updated_at: str


class TaxResidence(Model):
    country: str
    tax_information: TaxInformation | None = None


class Investor(Model):
    """The investor behind the credentials: an organization or an individual."""

    id: str
    name: str
    address: str
    zip_code: str
    city: str
    country: str
    nationality: str | None = None
    type: str
    registration_number: str | None = None
    legal_entity_type: str | None = None
    tax_information_by_country_of_residence: list[TaxResidence] | None = None


# --- Accounts --------------------------------------------------------------------------


class BlockchainAccount(Model):
    address: str
    network: str
    permission_groups: list[Any] = Field(default_factory=list)


class Account(Model):
    """An account holding shares of share classes."""

    id: str
    investor_id: str
    blockchain_account: BlockchainAccount | None = None
    type: str
    created_at: datetime | None = None
    name: str | None = None


class VirtualAccountDetails(Model):
    iban: str | None = None
    bic: str | None = None
    sort_code: str | None = None
    account_number: str | None = None


class VirtualBankAccount(Model):
    account_details: VirtualAccountDetails
    bank_name: str
    beneficiary_name: str
    rails: list[str]


class DepositInstructions(Model):
    """Where to wire money for an account and share class (virtual IBANs and their rails)."""

    share_class_currency: str
    accounts: list[VirtualBankAccount]


# --- Deposit and subscription orders ---------------------------------------------------


class WireInstructions(Model):
    reference: str
    iban: str
    intermediary_bic: str | None = None
    bic: str
    currency: str


class CreatedDepositOrder(Model):
    """A new deposit order with the wire instructions to fund it (quote ``reference``)."""

    id: str
    wire_instructions: WireInstructions
    status: str
    created_at: datetime


class DepositOrder(Model):
    id: str
    investor_id: str
    account_id: str
    share_class_id: str
    amount: Amount
    status: str
    wire_reference: str
    created_at: datetime
    funded_at: datetime | None = None
    executed_at: datetime | None = None
    canceled_at: datetime | None = None


class DirectDebitOrder(Model):
    """A SEPA direct-debit collection (deposit or deprecated subscription)."""

    investor_id: str
    amount: Amount
    share_class_id: str
    account_id: str
    bank_account_id: str
    status: str
    created_at: datetime
    scheduled_date: datetime
    id: str | None = None


class SubscriptionOrder(Model):
    id: str
    investor_id: str
    amount: Amount
    amount_in_share_class_currency: Amount
    shares_amount: Money | None = None
    account_id: str
    share_class_id: str
    wire_reference: str | None = None
    created_at: datetime
    executed_at: datetime | None = None
    canceled_at: datetime | None = None
    status: str
    share_class_account_id: str
    custodial_account_id: str


# --- Withdrawal and redemption orders --------------------------------------------------


class BankTransfer(Model):
    """Withdraw to one of the investor's bank accounts."""

    type: Literal["bank-transfer"] = "bank-transfer"
    bank_account_id: str


class InstantBankTransfer(Model):
    type: Literal["instant-bank-transfer"] = "instant-bank-transfer"
    bank_account_id: str


class StablecoinTransfer(Model):
    type: Literal["stablecoin-transfer"] = "stablecoin-transfer"
    wallet_id: str


WithdrawalDestination = Annotated[
    BankTransfer | InstantBankTransfer | StablecoinTransfer, Field(discriminator="type")
]


class AmountQuantity(Model):
    """Withdraw a fiat amount."""

    mode: Literal["amount"] = "amount"
    amount: Amount


class SharesQuantity(Model):
    """Withdraw a number of shares."""

    mode: Literal["shares"] = "shares"
    shares: Money


class TotalQuantity(Model):
    """Withdraw every share of the account in that share class."""

    mode: Literal["total"] = "total"


WithdrawalQuantity = Annotated[AmountQuantity | SharesQuantity | TotalQuantity, Field(discriminator="mode")]


class WithdrawalOrder(Model):
    id: str
    investor_id: str
    account_id: str
    share_class_id: str
    # Left to right: the typed variants first, a plain dict for a variant this SDK does not know.
    destination: WithdrawalDestination | dict[str, Any] = Field(union_mode="left_to_right")
    quantity: WithdrawalQuantity | dict[str, Any] = Field(union_mode="left_to_right")
    status: str
    created_at: datetime
    executed_at: datetime | None = None
    canceled_at: datetime | None = None


class RedemptionOrder(Model):
    id: str
    investor_id: str
    account_id: str
    share_class_id: str
    shares_amount: Money | None = None
    amount: Amount | None = None
    amount_in_share_class_currency: Amount | None = None
    destination: dict[str, Any]
    created_at: datetime
    executed_at: datetime | None = None
    status: str
    share_class_account_id: str
    custodial_account_id: str


class InstantRedemptionOrder(Model):
    id: str
    investor_id: str
    account_id: str
    share_class_id: str
    amount: Amount
    created_at: datetime
    destination: dict[str, Any]
    status: str


# --- Transfer orders -------------------------------------------------------------------


class TotalTransfer(Model):
    """Transfer every share."""

    type: Literal["total"] = "total"


class SharesTransfer(Model):
    type: Literal["in-shares"] = "in-shares"
    shares_amount: Money


class AmountTransfer(Model):
    type: Literal["in-amount"] = "in-amount"
    amount: Amount


TransferAmount = Annotated[TotalTransfer | SharesTransfer | AmountTransfer, Field(discriminator="type")]


class TransferOrder(Model):
    id: str
    from_investor_id: str
    from_account_id: str
    to_investor_id: str
    to_account_id: str
    share_class_id: str
    amount: Amount
    shares_amount: Money
    status: str
    created_at: datetime
    executed_at: datetime | None = None


# --- Account transactions --------------------------------------------------------------


class AccountTransaction(Model):
    """One line of an account's activity; ``order_type`` says which kind (``Subscription``,
    ``Redemption``, ``TransferFrom``, ``TransferTo``, ``Yield``, ...). Fields specific to a kind
    are typed where common and otherwise kept as extra fields."""

    id: str
    order_type: str
    status: str
    created_at: datetime
    account_id: str
    share_class_id: str
    share_class_symbol: str
    share_decimals: int
    shares_amount: Money | None = None
    net_asset_value: Amount | None = None
    amount: Amount | None = None
    confirmed_at: datetime | None = None
    wire_reference: str | None = None
    yield_day: date | None = None
    yield_nav_id: str | None = None
    to_investor_name: str | None = None
    from_investor_name: str | None = None


class AccountTransactionPage(Model):
    items: list[AccountTransaction]
    next_cursor: str | None = None
    has_more: bool


# --- Portfolio -------------------------------------------------------------------------


class PortfolioShareClass(Model):
    id: str
    name: str
    isin: str


class PortfolioItem(Model):
    name: str
    account: dict[str, Any]
    share_class: PortfolioShareClass
    total_number_of_shares: Money
    total_shares_amount: Amount
    total_gain_since_start: Amount


class Portfolio(Model):
    investor_id: str
    items: list[PortfolioItem]


class PortfolioTotal(Model):
    """An account's balance across share classes, converted to one currency, with the native breakdown."""

    account_id: str
    account_name: str
    total_balance: Amount
    breakdown: list[Amount]


# --- Bank accounts ---------------------------------------------------------------------


class BankAccountDetails(Model):
    currency: str
    account_number: str
    bic: str | None = None
    sort_code: str | None = None


class Mandate(Model):
    mandate_reference: str
    mandate_status: str
    mandate_signed_at: str | None = None


class BankAccount(Model):
    """One of the investor's own bank accounts (a withdrawal destination)."""

    id: str
    investor_id: str
    name: str | None = None
    details: BankAccountDetails
    mandate: Mandate | None = None


# --- Accounting positions and yields ---------------------------------------------------


class AccountingPosition(Model):
    """Holdings and movements of one day (midnight to midnight UTC) for a share class."""

    day: date
    status: str
    investor_id: str
    share_class_id: str
    account_id: str | None = None
    account_ids: list[str] | None = None
    id: str | None = None
    nav_id: str | None = None
    timestamp_gte: datetime | None = None
    timestamp_lt: datetime | None = None
    shares_holdings: Money
    holdings: Amount
    subscriptions: PeriodAmount
    redemptions: PeriodAmount
    transfers: PeriodAmount
    yield_: PeriodAmount = Field(alias="yield")
    realized_gain: PeriodAmount
    transferred_gain: PeriodAmount
    total_unrealized_gain: Amount


class DailyYield(Model):
    day: date
    share_class_id: str
    investor_id: str
    account_id: str
    yield_: Amount = Field(alias="yield")
    nav_id: str
    nav_update_date: str


# --- Events and webhook endpoints (extensions beyond the reference) -------------------------


class Event(Model):
    """A state change: ``type`` is ``object.verb`` (``deposit_order.funded``, ``nav.published``…),
    ``data`` the object as the API showed it then, ``sequence`` the investor's event number."""

    id: str
    type: str
    created_at: datetime
    sequence: int
    data: dict[str, Any]


class EventPage(Model):
    data: list[Event]
    next_cursor: str | None = None


class WebhookEndpoint(Model):
    id: str
    url: str
    description: str
    event_types: list[str] | None = None
    enabled: bool
    disabled_reason: str | None = None
    created_at: datetime
    updated_at: datetime


class CreatedWebhookEndpoint(WebhookEndpoint):
    """An endpoint with its signing secret (``whsec_…``), answered once: at creation and rotation."""

    secret: str


class WebhookAttempt(Model):
    attempted_at: datetime
    status_code: int | None = None
    latency_ms: int
    response_excerpt: str
    error: str | None = None


class WebhookDelivery(Model):
    id: str
    event_id: str
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
    created_at: datetime
    log: list[WebhookAttempt]


class WebhookDeliveryPage(Model):
    data: list[WebhookDelivery]
    next_cursor: str | None = None


class Redelivery(Model):
    queued: int
