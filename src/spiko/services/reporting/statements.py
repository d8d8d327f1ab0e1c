"""The account statement use case: gather the period's positions and movements, render the PDF."""

from __future__ import annotations

from collections import OrderedDict
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from spiko.context import AppContext
from spiko.db.models.funds import ShareClass
from spiko.db.models.identity import Investor
from spiko.db.models.ledger import ShareMovement
from spiko.domain.money import exact_sum
from spiko.domain.positions import DailyPosition
from spiko.errors import NotFoundError
from spiko.services import clock
from spiko.services.reporting import history
from spiko.services.reporting import positions as store
from spiko.services.reporting.statement_pdf import (
    Statement,
    StatementMovement,
    StatementPosition,
    render_statement,
)

_SIGN = {"subscription": 1, "transfer_in": 1, "redemption": -1, "transfer_out": -1}


def _correction(row: ShareMovement) -> str | None:
    """Which row of a correction this is: the reversal takes shares back the wrong way for its kind."""
    if row.correction_id is None:
        return None
    return "reversal" if row.shares * _SIGN[row.kind] < 0 else "entry"


def _position(position: DailyPosition) -> StatementPosition:
    return StatementPosition(
        position.day, position.shares, position.nav.value if position.nav else None, position.holdings
    )


def account_statement(
    ctx: AppContext,
    *,
    investor_id: str,
    account_id: str | None,
    share_class_symbol: str,
    first: date,
    last: date,
    locale: str,
    show_shares: bool,
) -> tuple[bytes, str]:
    """The PDF of one account (or of every account of the investor) in one share class."""
    with ctx.transaction(write=False) as session:
        history.check_period(session, first, last)
        share_class = session.scalar(select(ShareClass).where(ShareClass.symbol == share_class_symbol))
        if share_class is None:
            raise NotFoundError(f"Share class {share_class_symbol} not found")
        if account_id is not None:
            accounts = [history.owned_account(session, account_id, investor_id)]
        else:
            accounts = [a for a, _ in store.investor_accounts_holding(session, investor_id, share_class.id)]

    with ctx.transaction(write=False) as session:
        investor = session.get(Investor, investor_id)
        if investor is None:
            raise NotFoundError("Investor not found")
        opening_day = first - timedelta(days=1)
        if accounts:
            series = [
                store.account_positions(session, a.id, share_class, opening_day, last) for a in accounts
            ]
            daily = store.combined_positions(series)
        else:
            daily = store.empty_positions(session, share_class, opening_day, last)
        opening, closing = daily[0], daily[-1]
        monthly: OrderedDict[date, Decimal] = OrderedDict()
        for position in daily[1:]:
            month = position.day.replace(day=1)
            monthly[month] = exact_sum((monthly.get(month, Decimal(0)), position.yield_))
        rows = (
            session.scalars(
                select(ShareMovement)
                .where(
                    ShareMovement.account_id.in_([a.id for a in accounts]),
                    ShareMovement.share_class_id == share_class.id,
                    ShareMovement.day >= first,
                    ShareMovement.day <= last,
                )
                .order_by(ShareMovement.day, ShareMovement.executed_at, ShareMovement.id)
            ).all()
            if accounts
            else []
        )
        movements = [
            StatementMovement(
                day=row.day,
                kind=row.kind,
                shares=row.shares,
                nav=row.nav,
                amount=row.amount * _SIGN[row.kind],
                reference=row.order_id,
                correction=_correction(row),
            )
            # A correction's reversal before its new entry.
            for row in sorted(
                rows, key=lambda r: (r.day, r.executed_at, r.correction_id or "", _correction(r) == "entry")
            )
        ]
        label = None
        if account_id is not None:
            label = accounts[0].name or accounts[0].id
        statement = Statement(
            investor_name=investor.name,
            investor_address=[
                investor.address,
                f"{investor.zip_code} {investor.city}".strip(),
                investor.country,
            ],
            account_label=label,
            share_class_symbol=share_class.symbol,
            share_class_name=(share_class.data or {}).get(locale, {}).get("name")
            or (share_class.data or {}).get("en", {}).get("name")
            or share_class.symbol,
            isin=share_class.isin,
            currency=share_class.currency,
            share_decimals=share_class.share_decimals,
            nav_decimals=share_class.nav_decimals,
            period_start=first,
            period_end=last,
            issued_on=clock.today(session),
            opening=_position(opening),
            closing=_position(closing),
            subscriptions=closing.subscriptions_total - opening.subscriptions_total,
            redemptions=closing.redemptions_total - opening.redemptions_total,
            transfers=closing.transfers_total - opening.transfers_total,
            yield_=closing.yield_total - opening.yield_total,
            realized_gain=closing.realized_gain_total - opening.realized_gain_total,
            transferred_gain=closing.transferred_gain_total - opening.transferred_gain_total,
            unrealized_gain=closing.unrealized_gain,
            opening_unrealized_gain=opening.unrealized_gain,
            movements=movements,
            monthly_yields=list(monthly.items()),
        )
    pdf = render_statement(statement, locale=locale, show_shares=show_shares)
    return pdf, f"statement-{share_class.symbol}-{first.isoformat()}-{last.isoformat()}.pdf"
