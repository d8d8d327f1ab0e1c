"""What each event carries: the changed object as the API shows it, at the moment of the change.

Services call these in the transaction that makes the change; each shapes the object with its
presenter (so ``data`` is exactly what ``GET`` of that object answered then) and hands it to
``services.events.record``.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from spiko.db.models.funds import NetAssetValue, ShareClass
from spiko.db.models.identity import ApiKey
from spiko.db.models.orders import DepositOrder, TransferOrder, WithdrawalOrder
from spiko.db.models.webhooks import Event, WebhookEndpoint
from spiko.presenters.deposit_orders import deposit_order as present_deposit
from spiko.presenters.events import webhook_endpoint as present_endpoint
from spiko.presenters.formats import timestamp
from spiko.presenters.public import nav as present_nav
from spiko.presenters.transfer_orders import transfer_order as present_transfer
from spiko.presenters.withdrawal_orders import withdrawal_order as present_withdrawal
from spiko.presenters.yields import daily_yield
from spiko.services import events
from spiko.services.reporting.positions import AccountPosition


def deposit_order(session: Session, verb: str, order: DepositOrder) -> None:
    events.record(session, order.investor_id, f"deposit_order.{verb}", present_deposit(order))


def withdrawal_order(session: Session, verb: str, order: WithdrawalOrder) -> None:
    events.record(session, order.investor_id, f"withdrawal_order.{verb}", present_withdrawal(order))


def transfer_order(
    session: Session, verbs: tuple[str, ...], order: TransferOrder, share_class: ShareClass
) -> None:
    body = present_transfer(order, share_class)
    for verb in verbs:
        events.record(session, order.investor_id, f"transfer_order.{verb}", body)


def nav_published(session: Session, share_class: ShareClass, row: NetAssetValue) -> None:
    """A NAV concerns every investor: one event each."""
    events.record_for_every_investor(session, "nav.published", present_nav(share_class, row))


def yield_booked(
    session: Session, investor_id: str, share_class: ShareClass, entry: AccountPosition
) -> Event | None:
    """Once per account, share class and day, however often it is computed (None when already booked)."""
    day = entry.position.day.isoformat()
    return events.record(
        session,
        investor_id,
        "yield.booked",
        daily_yield(investor_id, share_class, entry),
        dedupe_key=f"yield/{entry.account_id}/{entry.share_class_id}/{day}",
    )


def statement_available(
    session: Session, investor_id: str, account_id: str, share_class: ShareClass, first: date, last: date
) -> Event | None:
    """Once per account, share class and month, when the month has ended (None when already told)."""
    query = urlencode(
        {
            "investorId": investor_id,
            "accountId": account_id,
            "shareClassSymbol": share_class.symbol,
            "from": first.isoformat(),
            "to": last.isoformat(),
        }
    )
    body = {
        "accountId": account_id,
        "shareClassId": share_class.id,
        "shareClassSymbol": share_class.symbol,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "path": f"/v1/accounting-positions/account-statement?{query}",
    }
    return events.record(
        session,
        investor_id,
        "statement.available",
        body,
        dedupe_key=f"statement/{account_id}/{share_class.id}/{first:%Y-%m}",
    )


def api_key(session: Session, verb: str, key: ApiKey) -> None:
    """An API key as events show it: never its secret."""
    body = {
        "id": key.id,
        "name": key.name,
        "clientId": key.client_id,
        "createdAt": timestamp(key.created_at),
        "revokedAt": timestamp(key.revoked_at),
    }
    events.record(session, key.investor_id, f"api_key.{verb}", body)


def app(
    session: Session, verb: str, investor_id: str, *, client_id: str, name: str, scope: str | None
) -> None:
    body = {"clientId": client_id, "name": name}
    if scope is not None:
        body["scope"] = scope
    events.record(session, investor_id, f"app.{verb}", body)


def endpoint_disabled(session: Session, endpoint: WebhookEndpoint) -> None:
    events.record(session, endpoint.investor_id, "webhook_endpoint.disabled", present_endpoint(endpoint))
