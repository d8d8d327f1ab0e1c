"""Operator commands for reference data: ``spiko funds``, ``share-classes``, ``nav``, ``fx``, ``calendar``,
``clock`` and ``reference seed``."""

from __future__ import annotations

import argparse
from datetime import date, time
from decimal import Decimal, InvalidOperation
from typing import Any

from spiko.cli.common import command, context, group


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a day formatted as YYYY-MM-DD: {value!r}") from None


def _time_of_day(value: str) -> time:
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a time of day formatted as HH:MM: {value!r}") from None


def _decimal(value: str) -> Decimal:
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a decimal number: {value!r}") from None
    if not number.is_finite():
        raise argparse.ArgumentTypeError(f"not a finite decimal number: {value!r}")
    return number


def register(commands: Any) -> None:
    funds = group(commands, "funds", "funds")
    command(funds, "list", "list the funds", list_funds)
    configure = command(
        funds,
        "configure",
        "set a fund's execution method or cut-off (in the fund's timezone)",
        configure_fund,
    )
    configure.add_argument("slug", metavar="SLUG")
    configure.add_argument("--execution-method", choices=["knownNAVs", "unknownNAVs"])
    configure.add_argument("--cut-off", metavar="HH:MM", help="in the fund's own timezone")

    close_day = command(
        commands,
        "close-day",
        "the daily close of every fund whose business day it is: execute, book positions, close",
        close_fund_days,
    )
    close_day.add_argument("--day", type=_day, metavar="YYYY-MM-DD", help="default: today (sandbox clock)")
    close_day.add_argument("--fund", metavar="SLUG", help="one fund (default: every fund)")

    share_classes = group(commands, "share-classes", "share classes of the funds")
    command(share_classes, "list", "list the share classes", list_share_classes)
    api_deposits = command(
        share_classes,
        "api-deposits",
        "allow or refuse deposit orders through the API for a share class (refused: investors wire directly)",
        set_api_deposits,
    )
    api_deposits.add_argument("symbol", metavar="SYMBOL")
    api_deposits.add_argument("state", choices=["on", "off"])

    nav = group(commands, "nav", "net asset values")
    publish = command(nav, "publish", "publish a share class's NAV for a business day", publish_nav)
    publish.add_argument("--share-class", required=True, metavar="SYMBOL")
    publish.add_argument("--day", required=True, type=_day, metavar="YYYY-MM-DD")
    publish.add_argument("--value", required=True, type=_decimal, metavar="DECIMAL")
    show = command(nav, "list", "list a share class's NAVs from a day", list_navs)
    show.add_argument("--share-class", required=True, metavar="SYMBOL")
    show.add_argument("--start-day", type=_day, metavar="YYYY-MM-DD", help="default: 30 days ago")
    growth = command(
        nav,
        "grow",
        "publish every missing NAV of a day, grown from the previous one at an annual rate",
        grow_navs,
    )
    growth.add_argument("--day", type=_day, metavar="YYYY-MM-DD", help="default: today (sandbox clock)")
    growth.add_argument(
        "--annual-rate", required=True, type=_decimal, metavar="DECIMAL", help="0.035 = 3.5 %%"
    )

    fx = group(commands, "fx", "exchange rates")
    fx_publish = command(fx, "publish", "publish an exchange rate: 1 BASE = RATE QUOTE", publish_fx)
    fx_publish.add_argument("--base", required=True, metavar="CURRENCY")
    fx_publish.add_argument("--quote", required=True, metavar="CURRENCY")
    fx_publish.add_argument("--day", required=True, type=_day, metavar="YYYY-MM-DD")
    fx_publish.add_argument("--rate", required=True, type=_decimal, metavar="DECIMAL")
    fx_publish.add_argument("--fund", metavar="SLUG", help="one fund (default: every fund)")
    fx_publish.add_argument("--kind", choices=["indicative", "execution"], default="indicative")
    fx_show = command(
        fx,
        "show",
        "the latest rate on or before a day: published, else inverted, else crossed through another currency",
        show_fx,
    )
    fx_show.add_argument("--base", required=True, metavar="CURRENCY")
    fx_show.add_argument("--quote", required=True, metavar="CURRENCY")
    fx_show.add_argument("--day", type=_day, metavar="YYYY-MM-DD", help="default: any day")
    fx_show.add_argument("--fund", metavar="SLUG")

    cal = group(commands, "calendar", "business-day calendars of the funds")
    add = command(cal, "add-holiday", "list a non-operating weekday of a fund", add_holiday)
    add.add_argument("--fund", required=True, metavar="SLUG")
    add.add_argument("--day", required=True, type=_day, metavar="YYYY-MM-DD")
    add.add_argument("--label", default="")
    remove = command(cal, "remove-holiday", "make a listed holiday a business day again", remove_holiday)
    remove.add_argument("--fund", required=True, metavar="SLUG")
    remove.add_argument("--day", required=True, type=_day, metavar="YYYY-MM-DD")
    listing = command(cal, "list", "list a fund's holidays", list_holidays)
    listing.add_argument("--fund", required=True, metavar="SLUG")
    check = command(cal, "check", "whether a day is a business day, and its neighbours", check_day)
    check.add_argument("--fund", required=True, metavar="SLUG")
    check.add_argument("--day", required=True, type=_day, metavar="YYYY-MM-DD")

    clock = group(commands, "clock", "the sandbox clock")
    command(clock, "show", "the day the system believes it is", show_clock)
    set_clock = command(clock, "set", "set the sandbox day, or follow the real date again", set_clock_day)
    target = set_clock.add_mutually_exclusive_group(required=True)
    target.add_argument("--day", type=_day, metavar="YYYY-MM-DD")
    target.add_argument("--real", action="store_true", help="follow the real UTC date")
    set_clock.add_argument(
        "--time", type=_time_of_day, metavar="HH:MM", help="UTC time of day (the clock runs on from it)"
    )

    ref = group(commands, "reference", "reference data")
    seed = command(ref, "seed", "create the funds, share classes and calendars (idempotent)", seed_reference)
    seed.add_argument("--history", action="store_true", help="also NAV and FX history up to today")


# --- bodies --------------------------------------------------------------------------------------


def _nav(share_class: Any, nav: Any) -> dict[str, Any]:
    from spiko.presenters import public

    return {**public.nav(share_class, nav), "shareClassSymbol": share_class.symbol}


def _rate(session: Any, rate: Any) -> dict[str, Any]:
    from spiko.db.models.funds import Fund
    from spiko.presenters.formats import plain_decimal

    fund = session.get(Fund, rate.fund_id) if rate.fund_id else None
    return {
        "id": rate.id,
        "fundId": rate.fund_id,
        "fund": fund.slug if fund else None,
        "day": rate.day.isoformat(),
        "baseCurrency": rate.base_currency,
        "quoteCurrency": rate.quote_currency,
        "fxRate": plain_decimal(rate.rate),
        "kind": rate.kind,
    }


# --- handlers ------------------------------------------------------------------------------------


def list_funds(args: argparse.Namespace) -> list[dict[str, Any]]:
    from spiko.services import reference

    with context() as ctx, ctx.transaction(write=False) as session:
        return [_fund(session, f) for f in reference.list_funds(session)]


def _share_class(share_class: Any) -> dict[str, Any]:
    from spiko.presenters import public

    return {**public.share_class(share_class), "apiDepositsAllowed": share_class.api_deposits_allowed}


def _fund(session: Any, fund: Any) -> dict[str, Any]:
    from spiko.presenters import public
    from spiko.services import reference, register

    last = register.closed_through(session, fund.id)
    return {
        **public.fund(fund, [row.day for row in reference.list_non_operating_days(session, fund.id)]),
        "name": fund.name,
        "cutOff": fund.cut_off,
        "closedThrough": last.isoformat() if last else None,
    }


def configure_fund(args: argparse.Namespace) -> dict[str, Any]:
    from spiko.services import audit, reference, register

    if args.execution_method is None and args.cut_off is None:
        raise ValueError("nothing to configure: give --execution-method and/or --cut-off")
    with context() as ctx, ctx.transaction() as session:
        before = reference.get_fund_by_slug(session, args.slug)
        was = {"executionMethod": before.execution_method, "cutOff": before.cut_off}
        fund = register.configure_fund(
            session, args.slug, execution_method=args.execution_method, cut_off=args.cut_off
        )
        audit.record(
            session,
            action="fund.configure",
            subject=f"fund:{fund.slug}",
            details={
                "before": was,
                "after": {"executionMethod": fund.execution_method, "cutOff": fund.cut_off},
            },
        )
        return _fund(session, fund)


def close_fund_days(args: argparse.Namespace) -> dict[str, Any]:
    from spiko.services import audit, close

    with context() as ctx, ctx.transaction() as session:
        summary = close.close_day(session, args.day, fund_slug=args.fund)
        # One record per fund whose day this command closed (a day already closed, or not a
        # business day of the fund, is left as it was and records nothing).
        for result in summary.funds:
            if result.status == "closed":
                audit.record(
                    session,
                    action="day.close",
                    subject=f"fund:{result.fund}",
                    details={
                        "day": result.day,
                        "navs": result.navs,
                        "depositsExecuted": result.deposits_executed,
                        "withdrawalsExecuted": result.withdrawals_executed,
                        "positionsBooked": result.positions_booked,
                    },
                )
        return summary.as_json()


def list_share_classes(args: argparse.Namespace) -> list[dict[str, Any]]:
    from spiko.services import reference

    with context() as ctx, ctx.transaction(write=False) as session:
        return [_share_class(share_class) for share_class in reference.list_share_classes(session)]


def set_api_deposits(args: argparse.Namespace) -> dict[str, Any]:
    from spiko.services import audit, reference

    with context() as ctx, ctx.transaction() as session:
        share_class = reference.get_share_class_by_symbol(session, args.symbol)
        share_class.api_deposits_allowed = args.state == "on"
        session.flush()
        audit.record(
            session,
            action="share_class.api_deposits",
            subject=f"share_class:{share_class.symbol}",
            details={"apiDepositsAllowed": share_class.api_deposits_allowed},
        )
        return _share_class(share_class)


def publish_nav(args: argparse.Namespace) -> dict[str, Any]:
    from spiko.services import audit, reference

    with context() as ctx, ctx.transaction() as session:
        share_class = reference.get_share_class_by_symbol(session, args.share_class)
        nav = reference.publish_nav(session, share_class.id, args.day, args.value)
        audit.record(
            session,
            action="nav.publish",
            subject=f"share_class:{share_class.symbol}",
            details={"navId": nav.id, "day": nav.day, "value": nav.value},
        )
        return _nav(share_class, nav)


def list_navs(args: argparse.Namespace) -> list[dict[str, Any]]:
    from datetime import timedelta

    from spiko.services import clock, reference

    with context() as ctx, ctx.transaction(write=False) as session:
        share_class = reference.get_share_class_by_symbol(session, args.share_class)
        start = args.start_day or clock.today(session) - timedelta(days=30)
        return [_nav(share_class, nav) for nav in reference.navs_between(session, share_class.id, start)]


def grow_navs(args: argparse.Namespace) -> list[dict[str, Any]]:
    from spiko.services import audit, clock, reference

    with context() as ctx, ctx.transaction() as session:
        day = args.day or clock.today(session)
        navs = reference.publish_growth_navs(session, day, args.annual_rate)
        bodies = [_nav(reference.get_share_class(session, nav.share_class_id), nav) for nav in navs]
        audit.record(
            session,
            action="nav.grow",
            subject=f"day:{day.isoformat()}",
            details={
                "annualRate": args.annual_rate,
                "published": [
                    {"shareClass": body["shareClassSymbol"], "value": body["amount"]["value"]}
                    for body in bodies
                ],
            },
        )
        return bodies


def publish_fx(args: argparse.Namespace) -> list[dict[str, Any]]:
    from spiko.services import audit, reference

    with context() as ctx, ctx.transaction() as session:
        funds = (
            [reference.get_fund_by_slug(session, args.fund)] if args.fund else reference.list_funds(session)
        )
        if not funds:
            raise LookupError("no fund exists yet; run `spiko reference seed` first")
        rates = [
            reference.publish_fx_rate(
                session,
                base=args.base.upper(),
                quote=args.quote.upper(),
                day=args.day,
                rate=args.rate,
                fund_id=fund.id,
                kind=args.kind,
            )
            for fund in funds
        ]
        audit.record(
            session,
            action="fx.publish",
            subject=f"fx:{args.base.upper()}/{args.quote.upper()}",
            details={
                "day": args.day,
                "rate": args.rate,
                "kind": args.kind,
                "funds": [fund.slug for fund in funds],
            },
        )
        return [_rate(session, rate) for rate in rates]


def show_fx(args: argparse.Namespace) -> dict[str, Any]:
    from spiko.services import reference
    from spiko.services.cross_rates import derive_rate

    base, quote = args.base.upper(), args.quote.upper()
    with context() as ctx, ctx.transaction(write=False) as session:
        fund_id = reference.get_fund_by_slug(session, args.fund).id if args.fund else None
        derived = derive_rate(session, base, quote, args.day, fund_id=fund_id)
        if derived is None:
            raise LookupError(f"no {base}/{quote} rate published, nor one to invert or cross")
        if derived.derivation == "published":
            return {**_rate(session, derived.legs[0].rate), "derivation": "published"}
        return {
            "id": None,
            "day": derived.day.isoformat(),
            "baseCurrency": base,
            "quoteCurrency": quote,
            "fxRate": reference.rate_display(derived.rate),
            "derivation": derived.derivation,
            "from": [{**_rate(session, leg.rate), "inverted": leg.inverted} for leg in derived.legs],
        }


def add_holiday(args: argparse.Namespace) -> dict[str, Any]:
    from spiko.services import audit, reference

    with context() as ctx, ctx.transaction() as session:
        fund = reference.get_fund_by_slug(session, args.fund)
        row = reference.add_non_operating_day(session, fund.id, args.day, args.label)
        audit.record(
            session,
            action="calendar.add_holiday",
            subject=f"fund:{fund.slug}",
            details={"day": row.day, "label": row.label},
        )
        return {"fund": fund.slug, "day": row.day.isoformat(), "label": row.label}


def remove_holiday(args: argparse.Namespace) -> dict[str, Any]:
    from spiko.services import audit, reference

    with context() as ctx, ctx.transaction() as session:
        fund = reference.get_fund_by_slug(session, args.fund)
        removed = reference.remove_non_operating_day(session, fund.id, args.day)
        audit.record(
            session,
            action="calendar.remove_holiday",
            subject=f"fund:{fund.slug}",
            details={"day": args.day, "removed": removed},
        )
        return {"fund": fund.slug, "day": args.day.isoformat(), "removed": removed}


def list_holidays(args: argparse.Namespace) -> list[dict[str, Any]]:
    from spiko.services import reference

    with context() as ctx, ctx.transaction(write=False) as session:
        fund = reference.get_fund_by_slug(session, args.fund)
        return [
            {"day": row.day.isoformat(), "label": row.label}
            for row in reference.list_non_operating_days(session, fund.id)
        ]


def check_day(args: argparse.Namespace) -> dict[str, Any]:
    from spiko.services import reference

    with context() as ctx, ctx.transaction(write=False) as session:
        fund = reference.get_fund_by_slug(session, args.fund)
        return {
            "fund": fund.slug,
            "day": args.day.isoformat(),
            "businessDay": reference.is_business_day(session, fund.id, args.day),
            "previousBusinessDay": reference.previous_business_day(session, fund.id, args.day).isoformat(),
            "nextBusinessDay": reference.next_business_day(session, fund.id, args.day).isoformat(),
        }


def _clock_body(session: Any) -> dict[str, Any]:
    from spiko.services import clock

    sandbox = clock.sandbox_day(session)
    return {
        "today": clock.today(session).isoformat(),
        "now": clock.now(session).isoformat(timespec="seconds"),
        "sandbox": sandbox is not None,
    }


def show_clock(args: argparse.Namespace) -> dict[str, Any]:
    with context() as ctx, ctx.transaction(write=False) as session:
        return _clock_body(session)


def set_clock_day(args: argparse.Namespace) -> dict[str, Any]:
    from spiko.services import audit, clock

    with context() as ctx, ctx.transaction() as session:
        if args.real and args.time is not None:
            raise ValueError("--time goes with --day, not --real")
        clock.set_today(session, None if args.real else args.day, args.time)
        audit.record(
            session,
            action="clock.set",
            subject="sandbox_clock",
            details={
                "day": None if args.real else args.day,
                "time": args.time.isoformat(timespec="minutes") if args.time else None,
            },
        )
        return _clock_body(session)


def seed_reference(args: argparse.Namespace) -> dict[str, Any]:
    from sqlalchemy import func, select

    from spiko.db.models.funds import ExchangeRate, NetAssetValue
    from spiko.services import audit, clock, seed

    with context() as ctx, ctx.transaction() as session:
        share_classes = seed.seed_reference_data(session)
        if args.history:
            seed.seed_history(session, clock.today(session))
        audit.record(
            session,
            action="reference.seed",
            subject="reference_data",
            details={"shareClasses": sorted(share_classes), "history": args.history},
        )
        return {
            "shareClasses": sorted(share_classes),
            "netAssetValues": session.scalar(select(func.count()).select_from(NetAssetValue)),
            "exchangeRates": session.scalar(select(func.count()).select_from(ExchangeRate)),
        }
