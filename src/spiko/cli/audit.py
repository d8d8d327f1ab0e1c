"""``spiko register reconcile`` and ``spiko audit list``: the operators' controls over the register."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any

from spiko.cli.common import command, context, group


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a day formatted as YYYY-MM-DD: {value!r}") from None


def register(commands: Any) -> None:
    register_group = group(commands, "register", "the register of shareholders")
    reconcile = command(
        register_group,
        "reconcile",
        "check, per share class, the holders' shares against the shares in issue and the ledger's cash "
        "against the orders; one JSON object per share class; exit 1 when anything does not balance",
        reconcile_register,
    )
    reconcile.add_argument("--day", type=_day, metavar="YYYY-MM-DD", help="default: today (sandbox clock)")
    reconcile.set_defaults(prints_json=False)

    audit_group = group(commands, "audit", "the audit trail of operator actions")
    listing = command(
        audit_group,
        "list",
        "the operator actions recorded, oldest first, one JSON object per line",
        list_audit,
    )
    listing.add_argument("--since", type=_day, metavar="YYYY-MM-DD", help="from midnight UTC of this day on")
    listing.set_defaults(prints_json=False)


def _lines(bodies: list[Any]) -> None:
    for body in bodies:
        sys.stdout.write(json.dumps(body) + "\n")
    sys.stdout.flush()


def reconcile_register(args: argparse.Namespace) -> None:
    from spiko.presenters.reconciliation import reconciliation
    from spiko.services.reconcile import RegisterNotBalanced, reconcile

    with context() as ctx, ctx.transaction(write=False) as session:
        results = reconcile(session, args.day)
        _lines([reconciliation(result) for result in results])
    if any(not result.balanced for result in results):
        raise RegisterNotBalanced(results)


def list_audit(args: argparse.Namespace) -> None:
    from spiko.presenters.audit import audit_record
    from spiko.services import audit

    with context() as ctx, ctx.transaction(write=False) as session:
        for row in audit.records(session, args.since):
            sys.stdout.write(json.dumps(audit_record(row)) + "\n")
    sys.stdout.flush()
