"""Scopes of the investor API: which families of operations a credential may reach.

A credential (an API key or an OAuth grant) that names no API scope has full access, as the
reference promises. One that names some reaches only the operations of those families, and gets
403 ``ForbiddenError`` elsewhere. Every operation on /v1 needs exactly one scope, declared in
``OPERATION_SCOPES`` by its ``operation_id``; the check runs once, in the authentication
dependency (``spiko.api.deps.authenticate_request``), so route modules know nothing of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from spiko.errors import ForbiddenError
from spiko.i18n import N_

# Each scope, with what the consent page and the integrations page say it lets a program do.
FAMILIES: dict[str, str] = {
    "investors:read": N_("See your investor profile."),
    "accounts:read": N_("See your accounts and their deposit instructions."),
    "accounts:write": N_("Open new accounts."),
    "bank-accounts:read": N_("See your registered bank accounts."),
    "orders:read": N_("See your deposit, withdrawal and transfer orders."),
    "orders:write": N_("Place and cancel deposit, withdrawal and transfer orders."),
    "reports:read": N_("See your transactions, portfolio, positions, yields and account statements."),
    "events:read": N_("See the events of your account: orders, NAVs, yields, keys and apps."),
    "webhooks:read": N_("See your webhook endpoints and their delivery log."),
    "webhooks:write": N_("Create, change, rotate and delete webhook endpoints, and redeliver events."),
}
READ = "read"
READ_SCOPES = frozenset(name for name in FAMILIES if name.endswith(":read"))
# Shorthands, expanded when a credential is checked (so a key made with ``read`` also reads any
# family added later).
SHORTHANDS: dict[str, frozenset[str]] = {READ: READ_SCOPES}
SHORTHAND_DESCRIPTIONS = {
    READ: N_(
        "See everything in your account without changing anything: profile, accounts, bank accounts, "
        "orders, transactions, portfolio, positions, yields, statements, events and webhook endpoints."
    ),
}
API_SCOPES: tuple[str, ...] = (READ, *FAMILIES)
# OAuth scopes that say how and how long an app holds access, not what it reaches. Any other
# name narrows a grant: one this server no longer knows narrows it to nothing, never widens it.
PROTOCOL_SCOPES = frozenset({"openid", "offline", "offline_access"})

# The one scope each operation on /v1 requires, by the operation's ``operation_id``.
OPERATION_SCOPES: dict[str, str] = {
    "investors.getInvestors": "investors:read",
    "investors.getInvestor": "investors:read",
    "accounts.getAccounts": "accounts:read",
    "accounts.getAccount": "accounts:read",
    "accounts.getDepositInstructions": "accounts:read",
    "accounts.createAccount": "accounts:write",
    "bankAccounts.getBankAccounts": "bank-accounts:read",
    "bankAccounts.getBankAccountById": "bank-accounts:read",
    "depositOrders.getDepositOrders": "orders:read",
    "depositOrders.getDepositOrder": "orders:read",
    "depositOrders.createDepositOrder": "orders:write",
    "depositOrders.createDepositOrderByDirectDebit": "orders:write",
    "depositOrders.cancelDepositOrder": "orders:write",
    "subscriptionOrders.getSubscriptionOrders": "orders:read",
    "subscriptionOrders.getSubscriptionOrder": "orders:read",
    "subscriptionOrders.createSubscriptionOrder": "orders:write",
    "subscriptionOrders.createSubscriptionOrderByDirectDebit": "orders:write",
    "withdrawalOrders.getWithdrawalOrders": "orders:read",
    "withdrawalOrders.getWithdrawalOrder": "orders:read",
    "withdrawalOrders.createWithdrawalOrder": "orders:write",
    "withdrawalOrders.cancelWithdrawalOrder": "orders:write",
    "redemptionOrders.getRedemptionOrders": "orders:read",
    "redemptionOrders.getRedemptionOrder": "orders:read",
    "redemptionOrders.createRedemptionOrder": "orders:write",
    "redemptionOrders.createInstantRedemptionOrder": "orders:write",
    "transferOrders.getTransferOrders": "orders:read",
    "transferOrders.getTransferOrder": "orders:read",
    "transferOrders.createTransferOrder": "orders:write",
    "accountTransactions.getAccountTransactions": "reports:read",
    "portfolio.getPortfolio": "reports:read",
    "portfolio.getPortfolioTotals": "reports:read",
    "accountingPositions.getAccountingPositionsHistory": "reports:read",
    "accountingPositions.getInvestorAccountingPositionsHistory": "reports:read",
    "accountingPositions.downloadAccountStatement": "reports:read",
    "yields.getYieldHistory": "reports:read",
    # Extensions beyond the reference (in /openapi.json only).
    "events.list": "events:read",
    "events.get": "events:read",
    "webhookEndpoints.list": "webhooks:read",
    "webhookEndpoints.get": "webhooks:read",
    "webhookEndpoints.deliveries": "webhooks:read",
    "webhookEndpoints.create": "webhooks:write",
    "webhookEndpoints.update": "webhooks:write",
    "webhookEndpoints.delete": "webhooks:write",
    "webhookEndpoints.rotateSecret": "webhooks:write",
    "webhookEndpoints.redeliver": "webhooks:write",
}


class UnknownScopeError(ValueError):
    """A scope name this server does not grant."""


def split(scope: str | Iterable[str] | None) -> list[str]:
    """Scope names from a space-separated string (RFC 6749 section 3.3) or a list, each once."""
    if scope is None:
        return []
    words = scope.split() if isinstance(scope, str) else [word for item in scope for word in item.split()]
    return list(dict.fromkeys(words))


def api_scopes(scope: str | Iterable[str] | None) -> list[str]:
    """The investor-API scopes among ``scope`` (``offline``, ``openid``, ... dropped)."""
    return [name for name in split(scope) if name not in PROTOCOL_SCOPES]


def normalize(names: Iterable[str]) -> str:
    """API scope names as stored with a credential: checked, each once, in a stable order.

    Raises ``UnknownScopeError`` for a name that is not an API scope.
    """
    chosen = split(list(names))
    unknown = [name for name in chosen if name not in SHORTHANDS and name not in FAMILIES]
    if unknown:
        raise UnknownScopeError(f"unknown scope {unknown[0]!r}; the scopes are: {', '.join(API_SCOPES)}")
    return " ".join(sorted(chosen, key=API_SCOPES.index))


@lru_cache(maxsize=1024)
def _permissions(scope: str) -> frozenset[str] | None:
    named = api_scopes(scope)
    if not named:
        return None
    granted: set[str] = set()
    for name in named:
        granted |= SHORTHANDS.get(name, frozenset({name}))
    return frozenset(granted)


def permissions(scope: str | None) -> frozenset[str] | None:
    """The families a credential with ``scope`` reaches; None when it names none: full access."""
    return _permissions(scope) if scope else None


def required_scope(operation_id: str | None) -> str | None:
    return OPERATION_SCOPES.get(operation_id) if operation_id else None


def enforce(granted: frozenset[str] | None, operation_id: str | None) -> None:
    """Refuse (403 ``ForbiddenError``) an operation outside the credential's scopes.

    Full access (``None``) reaches everything; a narrowed credential reaches only operations
    that declare one of its scopes, so an operation that declares none is refused to it.
    """
    if granted is None:
        return
    needed = required_scope(operation_id)
    if needed is None or needed not in granted:
        raise ForbiddenError(
            f"This credential's scopes do not allow this operation; it needs the scope {needed!r}"
            if needed
            else "This credential's scopes do not allow this operation"
        )


def covers(granted: str | None, requested: str | None) -> bool:
    """Whether what was ``granted`` includes everything ``requested`` asks for.

    Other scopes (``offline``, ``openid``) compare by name; API scopes by what they reach, where
    naming none is full access, which no narrowed grant covers.
    """
    other_granted = {name for name in split(granted) if name not in api_scopes(name)}
    other_requested = {name for name in split(requested) if name not in api_scopes(name)}
    if not other_requested <= other_granted:
        return False
    reach_granted, reach_requested = permissions(granted), permissions(requested)
    if reach_granted is None:
        return True
    return reach_requested is not None and reach_requested <= reach_granted


def merge(first: str | None, second: str | None) -> str:
    """Two consents to one app, as one: their scopes together, full access if either was full."""
    names = split(first) + split(second)
    if permissions(first) is None or permissions(second) is None:
        names = [name for name in names if not api_scopes(name)]
    return " ".join(sorted(set(names)))


def describe(scope: str | None) -> list[str]:
    """What a credential with ``scope`` may do on the investor API, in words; empty for full access."""
    known = [name for name in api_scopes(scope) if name in API_SCOPES]
    return [
        SHORTHAND_DESCRIPTIONS.get(name) or FAMILIES[name] for name in sorted(known, key=API_SCOPES.index)
    ]


def label(scope: str | None) -> str:
    """A short name for a credential's access: "Full access", "Read only", or its scopes."""
    named = api_scopes(scope)
    if not named:
        return N_("Full access")
    if named == [READ]:
        return N_("Read only")
    return ", ".join(sorted(named, key=lambda name: (API_SCOPES + (name,)).index(name)))
