"""The investor app's dashboard (``/``): value today, holdings, yield to date, pending orders, charts.

The figures are those of ``GET /v1/portfolio``, ``/v1/portfolio/totals`` and the yield history
(``services.reporting.dashboard`` over ``reporting.history``); the charts are SVG drawn on the
server (``web.charts``), each with its table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from spiko.auth.sessions import SignedInUser
from spiko.db.models.funds import ShareClass
from spiko.services import deposits, order_estimates, withdrawals
from spiko.services.reporting import dashboard, history
from spiko.web import charts
from spiko.web.rendering import render
from spiko.web.routes import app_context, signed_in, to_login

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class ChartView:
    share_class: ShareClass
    points: list[dashboard.SeriesPoint]
    holdings_svg: Markup
    yield_svg: Markup


@dataclass(frozen=True)
class PendingOrder:
    kind: str  # "deposit" | "withdrawal"
    order_id: str
    account_id: str
    share_class: ShareClass
    status: str
    created: date
    estimate: order_estimates.Estimate


def pending_orders(session: Session, investor_id: str) -> list[PendingOrder]:
    """The investor's pending deposits and withdrawals, each with its expected trade day."""
    found = []
    for deposit in deposits.list_deposits(session, investor_id, "pending"):
        share_class = history.share_class(session, deposit.share_class_id)
        status = "pending-execution" if deposit.funded_at else "pending-wire"
        found.append(
            PendingOrder(
                "deposit",
                deposit.id,
                deposit.account_id,
                share_class,
                status,
                deposit.created_day,
                order_estimates.deposit(session, deposit),
            )
        )
    for withdrawal in withdrawals.list_withdrawals(session, investor_id, "pending"):
        share_class = history.share_class(session, withdrawal.share_class_id)
        found.append(
            PendingOrder(
                "withdrawal",
                withdrawal.id,
                withdrawal.account_id,
                share_class,
                "pending-execution",
                withdrawal.created_day,
                order_estimates.withdrawal(session, withdrawal),
            )
        )
    return found


def _charts(
    session: Session, pairs: list[dashboard.Pair], overview: dashboard.Overview, period: str
) -> list[ChartView]:
    first, last = dashboard.period_bounds(overview.day, period)
    views = []
    for summary in overview.share_classes:
        share_class = summary.share_class
        points = dashboard.series(session, pairs, share_class, first, last)
        symbol = share_class.symbol
        views.append(
            ChartView(
                share_class,
                points,
                charts.line_chart(
                    [charts.Point(p.day, p.holdings) for p in points], labelled_by=f"holdings-{symbol}"
                ),
                charts.bar_chart(
                    [charts.Point(p.day, p.yield_) for p in points], labelled_by=f"yield-{symbol}"
                ),
            )
        )
    return views


@router.get("/")
def home(request: Request, period: str = dashboard.DEFAULT_PERIOD) -> Response:
    user = signed_in(request)
    if user is None:
        return to_login(request)
    return dashboard_page(request, user, period)


def dashboard_page(request: Request, user: SignedInUser, period: str) -> Response:
    ctx = app_context(request)
    if period not in dashboard.PERIODS:
        period = dashboard.DEFAULT_PERIOD

    pairs = dashboard.refresh(ctx, user.investor_id)
    with ctx.transaction(write=False) as session:
        overview = dashboard.overview(
            session, user.investor_id, pairs, max_rate_age_days=ctx.settings.fx_max_age_days
        )
        page: dict[str, Any] = {
            "overview": overview,
            "pending": pending_orders(session, user.investor_id),
            "charts": _charts(session, pairs, overview, period),
        }
    return render(request, "dashboard.html", user=user, period=period, periods=dashboard.PERIODS, **page)
