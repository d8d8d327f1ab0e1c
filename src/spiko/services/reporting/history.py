"""Use cases of the accounting positions and yield history routes, and of the portfolio."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from spiko.context import AppContext
from spiko.db.models.funds import ShareClass
from spiko.db.models.orders import Account
from spiko.domain.money import convert, exact_sum, minor_units
from spiko.domain.positions import DailyPosition, round_money
from spiko.errors import BadRequestError, HttpApiDecodeError, NotFoundError
from spiko.services import clock, reference
from spiko.services.reporting import positions as store
from spiko.services.reporting.positions import AccountPosition


def owned_account(session: Session, account_id: str, investor_id: str) -> Account:
    """The investor's account, or 404 — also for another investor's account."""
    account = session.get(Account, account_id)
    if account is None or account.investor_id != investor_id:
        raise NotFoundError("Account not found")
    return account


def share_class(session: Session, share_class_id: str) -> ShareClass:
    return reference.get_share_class(session, share_class_id)


# Reports reach a few days past today (a client in another timezone, a sandbox a day ahead), no
# further: every day of a period is computed, so an unbounded future would be unbounded work.
FUTURE_MARGIN_DAYS = 7


def check_period(session: Session, first: date, last: date) -> None:
    """A period the API serves: ordered, at most ``MAX_DAYS`` long, ending by today plus a margin."""
    if last < first:
        raise BadRequestError("'to' must not be before 'from'")
    latest = clock.today(session) + timedelta(days=FUTURE_MARGIN_DAYS)
    if last > latest:
        raise BadRequestError(
            f"a period may not end after {latest.isoformat()} (today plus {FUTURE_MARGIN_DAYS} days)"
        )
    if (last - first).days + 1 > store.MAX_DAYS:
        raise BadRequestError(f"a period covers at most {store.MAX_DAYS} days")


def refresh_account(ctx: AppContext, investor_id: str, account_id: str, share_class_id: str | None) -> None:
    """Bring the stored positions of an investor's account up to date (before a read transaction)."""
    with ctx.transaction(write=False) as session:
        owned_account(session, account_id, investor_id)
        classes = (
            [share_class(session, share_class_id)]
            if share_class_id
            else list(session.scalars(select(ShareClass)))
        )
        pairs = [(account_id, sc) for sc in classes if store.has_movements(session, account_id, sc.id)]
    store.refresh(ctx, pairs)


def refresh_investor(ctx: AppContext, investor_id: str, share_class_id: str | None) -> None:
    with ctx.transaction(write=False) as session:
        if share_class_id:
            share_class(session, share_class_id)
        classes = {sc.id: sc for sc in session.scalars(select(ShareClass))}
        pairs = [
            (account.id, classes[class_id])
            for account, class_id in store.investor_accounts_holding(session, investor_id, share_class_id)
        ]
    store.refresh(ctx, pairs)


T = TypeVar("T")


def read_fresh_account(
    ctx: AppContext,
    investor_id: str,
    account_id: str,
    share_class_id: str | None,
    read: Callable[[Session], T],
    *,
    refresh: bool = True,
) -> T:
    """``read`` in one read-only transaction, so it sees one consistent state however long it takes.

    Positions are never replayed into the store on a read: the daily close books every account's
    days (``services.close``), and the few days since the last close are computed from its
    stored positions. ``refresh`` (the transactions listing's yield accruals, which are paged
    from the store) stores days no close has booked yet — in a register run by daily closes,
    none, so the check is one indexed read.
    """
    if refresh:
        refresh_account(ctx, investor_id, account_id, share_class_id)
    with ctx.transaction(write=False) as session:
        owned_account(session, account_id, investor_id)
        if share_class_id:
            share_class(session, share_class_id)
        return read(session)


def read_fresh_investor(
    ctx: AppContext, investor_id: str, share_class_id: str | None, read: Callable[[Session], T]
) -> T:
    """``read`` in one read-only transaction (no replay: the close stores the positions)."""
    with ctx.transaction(write=False) as session:
        if share_class_id:
            share_class(session, share_class_id)
        return read(session)


def account_history(
    session: Session, account_id: str, share_class_id: str, first: date, last: date
) -> list[AccountPosition]:
    check_period(session, first, last)
    return store.account_positions(session, account_id, share_class(session, share_class_id), first, last)


@dataclass(frozen=True)
class InvestorHistory:
    account_ids: list[str]
    positions: list[DailyPosition]


def investor_history(
    session: Session, investor_id: str, share_class_id: str, first: date, last: date
) -> InvestorHistory:
    check_period(session, first, last)
    sc = share_class(session, share_class_id)
    accounts = [account for account, _ in store.investor_accounts_holding(session, investor_id, sc.id)]
    if not accounts:
        # Nothing ever held: zero positions over the investor's accounts, if it has any (the
        # reference's accountIds is never empty).
        every = session.scalars(
            select(Account.id)
            .where(Account.investor_id == investor_id)
            .order_by(Account.created_at, Account.id)
        ).all()
        if not every:
            return InvestorHistory([], [])
        return InvestorHistory(list(every), store.empty_positions(session, sc, first, last))
    series = [store.account_positions(session, account.id, sc, first, last) for account in accounts]
    return InvestorHistory([account.id for account in accounts], store.combined_positions(series))


def yield_history(
    session: Session, account_id: str, share_class_id: str, first: date, last: date
) -> list[AccountPosition]:
    """The days of the period whose yield is listed: earned by shares held, or not zero."""
    return [
        entry for entry in account_history(session, account_id, share_class_id, first, last) if entry.accrues
    ]


# --- portfolio -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Holding:
    account: Account
    share_class: ShareClass
    position: DailyPosition

    @property
    def gain_since_start(self) -> Decimal:
        return self.position.yield_total


def holdings(
    session: Session, investor_id: str, pairs: Sequence[tuple[Account, str]] | None = None
) -> list[Holding]:
    """Every (account, share class) the investor ever held, valued today at the latest NAV
    (``pairs``: those pairs, when the caller already looked them up)."""
    today = clock.today(session)
    classes = {sc.id: sc for sc in session.scalars(select(ShareClass))}
    result = []
    if pairs is None:
        pairs = store.investor_accounts_holding(session, investor_id)
    for account, class_id in pairs:
        sc = classes[class_id]
        last_movement = store.last_movement_day(session, account.id, sc.id)
        day = max(today, last_movement) if last_movement else today
        (entry,) = store.account_positions(session, account.id, sc, day, day)
        result.append(Holding(account, sc, entry.position))
    return result


@dataclass(frozen=True)
class AccountTotal:
    """An account's native balances, and their sum converted to ``currency``; ``rates`` are the
    rates used, each with the day it dates from."""

    account: Account
    currency: str
    total: Decimal
    breakdown: dict[str, Decimal]
    rates: tuple[reference.FxQuote, ...] = ()


def portfolio_totals(
    session: Session,
    investor_id: str,
    currency: str | None,
    *,
    max_rate_age_days: int | None = None,
    known_holdings: list[Holding] | None = None,
) -> list[AccountTotal]:
    """Per account: the native balance per currency, and its sum converted to one currency.

    The currency is the one asked for; else EUR, unless every position holding shares is in one
    other currency. Each currency's balance is converted once, at the rate in force today
    (``reference.fx_quote``), rounded half up to the target's minor unit (``money.convert``);
    the total is the exact sum of those conversions. A currency without a rate, or whose rate is
    older than ``max_rate_age_days``, is refused with the reason (and the rate's date).
    ``known_holdings``: the investor's ``holdings``, when the caller already has them.
    """
    positions = holdings(session, investor_id) if known_holdings is None else known_holdings
    if currency is None:
        held = {h.share_class.currency for h in positions if h.position.shares > 0}
        currency = held.pop() if len(held) == 1 else "EUR"
    accounts = session.scalars(
        select(Account).where(Account.investor_id == investor_id).order_by(Account.created_at, Account.id)
    ).all()
    today = clock.today(session)
    quotes: dict[str, reference.FxQuote] = {}
    totals = []
    for account in accounts:
        breakdown: dict[str, Decimal] = {}
        for holding in positions:
            if holding.account.id == account.id and holding.position.shares > 0:
                native = holding.share_class.currency
                breakdown[native] = exact_sum((breakdown.get(native, Decimal(0)), holding.position.holdings))
        converted = []
        for native, amount in breakdown.items():
            if native not in quotes:
                quotes[native] = _quote(session, native, currency, today, max_rate_age_days)
            converted.append(convert(amount, quotes[native].rate, currency))
        total = exact_sum(converted) if converted else round_money(Decimal(0), minor_units(currency))
        used = tuple(quotes[native] for native in breakdown)
        totals.append(AccountTotal(account, currency, total, breakdown, used))
    return totals


def _quote(
    session: Session, native: str, currency: str, today: date, max_age_days: int | None
) -> reference.FxQuote:
    try:
        found = reference.fx_quote(session, native, currency, today, max_age_days=max_age_days)
    except reference.StaleRateError as error:
        raise HttpApiDecodeError.single(["currency"], str(error.fields["reason"]), "Refinement") from None
    if found is None:
        raise HttpApiDecodeError.single(
            ["currency"], f"no exchange rate from {native} to {currency} is published", "Refinement"
        )
    return found
