"""The demo investor's year of activity, for ``spiko serve --demo``.

Runs after the NAV history is in place: opens two EUTBL accounts and a USTBL account, adds a
bank account, and replays a year of deposits, withdrawals and a transfer, each executed at the
NAV of its day through the same rules as live orders, so the portfolio, transactions and
statements of the demo have something true to show.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from spiko.db.models.funds import ShareClass
from spiko.db.models.orders import Account
from spiko.errors import ApiError, NotFoundError
from spiko.services import (
    accounts,
    bank_accounts,
    clock,
    deposits,
    execution,
    reference,
    transfers,
    withdrawals,
)

DEMO_IBAN = "FR7630006000011234567890189"
DEMO_BIC = "AGRIFRPPXXX"
MORNING = time(9, 30, tzinfo=UTC)

# (days before today, kind, share class, quantity, account)
DEMO_EVENTS: tuple[tuple[int, str, str, str, str], ...] = (
    (360, "deposit", "EUTBL", "250000.00", "treasury"),
    (300, "deposit", "USTBL", "150000.00", "dollars"),
    (240, "deposit", "EUTBL", "100000.00", "treasury"),
    (180, "withdraw-amount", "EUTBL", "50000.00", "treasury"),
    (150, "transfer-shares", "EUTBL", "40000", "treasury"),
    (120, "deposit", "EUTBL", "75000.00", "treasury"),
    (90, "withdraw-shares", "USTBL", "20000", "dollars"),
    (60, "withdraw-amount", "EUTBL", "30000.00", "treasury"),
    (20, "deposit", "EUTBL", "25000.00", "reserve"),
)


def _business_day_on_or_after(session: Session, share_class: ShareClass, day: date) -> date:
    if reference.is_business_day(session, share_class.fund_id, day):
        return day
    return reference.next_business_day(session, share_class.fund_id, day)


def seed_demo_activity(session: Session, *, investor_id: str) -> None:
    """Seed once: an investor that already has an account keeps the activity it has."""
    if session.scalar(select(Account.id).where(Account.investor_id == investor_id).limit(1)) is not None:
        return
    try:
        eutbl = reference.get_share_class_by_symbol(session, "EUTBL")
    except NotFoundError:
        return  # no reference data: nothing to invest in
    share_classes = {"EUTBL": eutbl}
    with contextlib.suppress(NotFoundError):
        share_classes["USTBL"] = reference.get_share_class_by_symbol(session, "USTBL")
    today = clock.today(session)
    opened = {
        "treasury": accounts.create_account(
            session, investor_id=investor_id, share_class_id=eutbl.id, name="Treasury"
        ),
        "reserve": accounts.create_account(
            session, investor_id=investor_id, share_class_id=eutbl.id, name="Reserve"
        ),
    }
    if "USTBL" in share_classes:
        opened["dollars"] = accounts.create_account(
            session, investor_id=investor_id, share_class_id=share_classes["USTBL"].id, name="Dollar treasury"
        )
    bank = bank_accounts.add_bank_account(
        session, investor_id=investor_id, iban=DEMO_IBAN, bic=DEMO_BIC, name="Main operating account"
    )
    for days_ago, kind, symbol, quantity, account_key in DEMO_EVENTS:
        share_class = share_classes.get(symbol)
        account = opened.get(account_key)
        if share_class is None or account is None:
            continue
        day = _business_day_on_or_after(session, share_class, today - timedelta(days=days_ago))
        nav = reference.nav_on(session, share_class.id, day)
        if day >= today or nav is None:
            continue
        try:
            # A savepoint per step: a step a rule refuses leaves nothing behind.
            with session.begin_nested():
                _replay(
                    session,
                    kind,
                    investor_id,
                    share_class,
                    account,
                    opened,
                    bank.id,
                    quantity,
                    day,
                    nav.value,
                )
        except ApiError:
            continue  # e.g. a shorter NAV history than a year: the demo goes on without this step


def _replay(
    session: Session,
    kind: str,
    investor_id: str,
    share_class: ShareClass,
    account: Account,
    opened: dict[str, Account],
    bank_id: str,
    quantity: str,
    day: date,
    nav: Decimal,
) -> None:
    moment = datetime.combine(day, MORNING)
    if kind == "deposit":
        order = deposits.create_deposit(
            session,
            investor_id=investor_id,
            account_id=account.id,
            share_class_id=share_class.id,
            amount=Decimal(quantity),
            currency=share_class.currency,
            day=day,
        )
        order.created_at = order.funded_at = moment
        order.funded_day = day
        execution.execute_deposit(session, order, nav, day)
    elif kind.startswith("withdraw-"):
        mode = kind.removeprefix("withdraw-")
        withdrawal = withdrawals.create_withdrawal(
            session,
            investor_id=investor_id,
            account_id=account.id,
            share_class_id=share_class.id,
            bank_account_id=bank_id,
            mode=mode,
            amount=Decimal(quantity) if mode == "amount" else None,
            currency=share_class.currency,
            shares=Decimal(quantity) if mode == "shares" else None,
            day=day,
        )
        withdrawal.created_at = moment
        execution.execute_withdrawal(session, withdrawal, nav, day)
    elif kind == "transfer-shares":
        transfer = transfers.create_transfer(
            session,
            investor_id=investor_id,
            from_account_id=account.id,
            to_account_id=opened["reserve"].id,
            share_class_id=share_class.id,
            mode="in-shares",
            shares=Decimal(quantity),
            day=day,
        )
        transfer.created_at = moment
    session.flush()
