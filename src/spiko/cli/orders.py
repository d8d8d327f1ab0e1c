"""Operator commands of the orders area: ``spiko bank-accounts``, ``deposits``, ``orders`` and ``sandbox``."""

from __future__ import annotations

import argparse
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from spiko.cli.common import command, context, group

if TYPE_CHECKING:
    from spiko.presenters.bank_accounts import BankAccountBody
    from spiko.presenters.deposit_orders import DepositOrderBody
    from spiko.presenters.operations import ExecutionSummaryBody, SandboxWalkBody

MAX_SANDBOX_DAYS = 3660


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a day formatted as YYYY-MM-DD: {value!r}") from None


def _amount(value: str) -> Decimal:
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a decimal number: {value!r}") from None
    if not number.is_finite() or number <= 0:
        raise argparse.ArgumentTypeError(f"not a positive decimal number: {value!r}")
    return number


def _days(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if not 1 <= number <= MAX_SANDBOX_DAYS:
        raise argparse.ArgumentTypeError(f"--days must be between 1 and {MAX_SANDBOX_DAYS}")
    return number


def register(commands: Any) -> None:
    bank_accounts = group(commands, "bank-accounts", "investors' bank accounts (where withdrawals are paid)")
    add = command(bank_accounts, "add", "add a bank account to the investor of a user", add_bank_account)
    add.add_argument("--email", required=True, help="the email of one of the investor's users")
    add.add_argument("--iban", required=True)
    add.add_argument("--bic", required=True)
    add.add_argument("--name", default=None)
    add.add_argument("--currency", default="EUR", help="the account's currency (default EUR)")
    listing = command(
        bank_accounts, "list", "list the bank accounts of the investor of a user", list_bank_accounts
    )
    listing.add_argument("--email", required=True)

    deposits = group(commands, "deposits", "deposit orders")
    fund = command(deposits, "fund", "record the incoming payment of a deposit order", fund_deposit)
    fund.add_argument("--reference", required=True, metavar="WIRE_REFERENCE")
    fund.add_argument("--amount", type=_amount, metavar="DECIMAL", help="checked against the order's amount")
    fund.add_argument("--day", type=_day, metavar="YYYY-MM-DD", help="the day it arrived (default: today)")

    orders = group(commands, "orders", "order execution")
    execute = command(orders, "execute", "execute every executable order at a day's NAVs", execute_orders)
    execute.add_argument("--day", type=_day, metavar="YYYY-MM-DD", help="default: today (sandbox clock)")

    correct = command(
        orders,
        "correct",
        "reprice an executed deposit or withdrawal: a reversal plus a new entry, booked on an open day",
        correct_order,
    )
    correct.add_argument("order_id", metavar="ORDER_ID")
    correct.add_argument("--nav", required=True, type=_amount, metavar="DECIMAL", help="the corrected NAV")
    correct.add_argument("--reason", required=True, help="why (kept with the correction)")
    corrections = command(orders, "corrections", "list the corrections booked", list_corrections)
    corrections.add_argument("--order", metavar="ORDER_ID", help="one order's corrections")

    sandbox = group(commands, "sandbox", "walk the sandbox through business days (NAVs, funding, execution)")
    advance = command(
        sandbox,
        "advance",
        "walk business days: publish grown NAVs, fund pending deposits, execute orders",
        advance_sandbox,
    )
    advance.add_argument("--days", type=_days, default=1, metavar="N")


def _investor_id(session: Any, email: str) -> str:
    from spiko.services import identity

    user = identity.find_user_by_email(session, email)
    if user is None:
        raise LookupError(f"no user with email {email}")
    return str(user.investor_id)


def add_bank_account(args: argparse.Namespace) -> BankAccountBody:
    from spiko.presenters.bank_accounts import bank_account
    from spiko.services import audit, bank_accounts

    with context() as ctx, ctx.transaction() as session:
        row = bank_accounts.add_bank_account(
            session,
            investor_id=_investor_id(session, args.email),
            iban=args.iban,
            bic=args.bic,
            name=args.name,
            currency=args.currency.upper(),
        )
        audit.record(
            session,
            action="bank_account.add",
            subject=f"bank_account:{row.id}",
            # The IBAN's last four characters: enough to tell accounts apart in the log.
            details={
                "investorId": row.investor_id,
                "ibanEnd": row.iban[-4:],
                "bic": row.bic,
                "currency": row.currency,
            },
        )
        return bank_account(row)


def list_bank_accounts(args: argparse.Namespace) -> list[BankAccountBody]:
    from spiko.presenters.bank_accounts import bank_account
    from spiko.services import bank_accounts

    with context() as ctx, ctx.transaction(write=False) as session:
        investor_id = _investor_id(session, args.email)
        return [bank_account(row) for row in bank_accounts.list_bank_accounts(session, investor_id)]


def fund_deposit(args: argparse.Namespace) -> DepositOrderBody:
    from spiko.presenters.deposit_orders import deposit_order
    from spiko.services import audit, deposits

    with context() as ctx, ctx.transaction() as session:
        order = deposits.fund_deposit(
            session, reference_text=args.reference, amount=args.amount, day=args.day
        )
        audit.record(
            session,
            action="deposit.fund",
            subject=f"deposit_order:{order.id}",
            details={
                "wireReference": order.wire_reference,
                "amount": order.amount,
                "fundedDay": order.funded_day,
            },
        )
        return deposit_order(order)


def execute_orders(args: argparse.Namespace) -> ExecutionSummaryBody:
    from spiko.presenters.operations import execution_summary
    from spiko.services import audit, execution

    with context() as ctx, ctx.transaction() as session:
        summary = execution.execute_orders(session, args.day)
        audit.record(
            session,
            action="orders.execute",
            subject=f"day:{summary.day.isoformat()}",
            details={
                "depositsExecuted": len(summary.deposits),
                "withdrawalsExecuted": len(summary.withdrawals),
                "waitingForNav": summary.waiting_for_nav,
            },
        )
        return execution_summary(summary)


def _correction(row: Any) -> dict[str, Any]:
    from spiko.presenters.formats import plain_decimal, timestamp

    return {
        "id": row.id,
        "orderId": row.order_id,
        "orderKind": row.order_kind,
        "day": row.day.isoformat(),
        "reason": row.reason,
        "createdAt": timestamp(row.created_at),
        "before": {
            "nav": plain_decimal(row.old_nav),
            "shares": plain_decimal(row.old_shares),
            "amount": plain_decimal(row.old_amount),
        },
        "after": {
            "nav": plain_decimal(row.new_nav),
            "shares": plain_decimal(row.new_shares),
            "amount": plain_decimal(row.new_amount),
        },
    }


def correct_order(args: argparse.Namespace) -> dict[str, Any]:
    from spiko.services import audit, corrections

    with context() as ctx, ctx.transaction() as session:
        correction = corrections.correct_order(session, args.order_id, nav=args.nav, reason=args.reason)
        body = _correction(correction)
        audit.record(
            session,
            action="order.correct",
            subject=f"{correction.order_kind}_order:{correction.order_id}",
            details={
                "correctionId": correction.id,
                "day": correction.day,
                "reason": correction.reason,
                "before": body["before"],
                "after": body["after"],
            },
        )
        return body


def list_corrections(args: argparse.Namespace) -> list[dict[str, Any]]:
    from spiko.services import corrections

    with context() as ctx, ctx.transaction(write=False) as session:
        return [_correction(row) for row in corrections.list_corrections(session, args.order)]


def advance_sandbox(args: argparse.Namespace) -> SandboxWalkBody:
    from spiko.presenters.operations import sandbox_day, sandbox_walk
    from spiko.services import audit, sandbox

    steps = []
    with context() as ctx:
        # One transaction per day: a long walk commits as it goes and can be resumed; each day
        # walked is one audited action, recorded in its own transaction.
        for _ in range(args.days):
            with ctx.transaction() as session:
                step = sandbox_day(sandbox.advance_one_day(session, ctx.settings.sandbox_annual_rate))
                audit.record(
                    session,
                    action="sandbox.advance",
                    subject=f"day:{step['day']}",
                    details={
                        "navsPublished": len(step["navsPublished"]),
                        "depositsFunded": len(step["depositsFunded"]),
                        "ordersExecuted": step["execution"]["depositsExecuted"]
                        + step["execution"]["withdrawalsExecuted"],
                    },
                )
                steps.append(step)
    return sandbox_walk(steps)
