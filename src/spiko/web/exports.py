"""Account transactions as CSV and XLSX: the API's items (``presenters.account_transactions``),
one row each, so a spreadsheet shows the very figures ``GET /v1/account-transactions`` answers.

Amounts, shares and NAVs are written as the API's decimal strings in CSV (no float ever
rounds them) and as numbers in XLSX, converted from those strings.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from spiko.presenters.account_transactions import TransactionItem

COLUMNS = (
    "createdAt",
    "type",
    "status",
    "amount",
    "currency",
    "shares",
    "nav",
    "shareClass",
    "reference",
    "bankAccount",
    "id",
)


def row(item: TransactionItem) -> list[str]:
    """One transaction as the export's cells (text), in the order of ``COLUMNS``."""
    fields: dict[str, Any] = dict(item)
    amount = fields.get("amount") or {}
    nav = fields.get("netAssetValue") or {}
    return [
        fields["createdAt"],
        fields["orderType"],
        fields["status"],
        amount.get("value", ""),
        amount.get("currency", ""),
        fields.get("sharesAmount") or "",
        nav.get("value", ""),
        fields["shareClassSymbol"],
        fields.get("wireReference") or fields.get("yieldDay") or "",
        fields.get("bankAccountNumber") or "",
        fields["id"],
    ]


def to_csv(rows: Iterable[Sequence[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    # A byte-order mark: spreadsheet programs then read the file as UTF-8.
    return ("\ufeff" + out.getvalue()).encode()


_NUMERIC = {COLUMNS.index("amount"), COLUMNS.index("shares"), COLUMNS.index("nav")}


def to_xlsx(rows: Iterable[Sequence[str]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Transactions")
    sheet.append(list(COLUMNS))
    for cells in rows:
        sheet.append(
            [Decimal(value) if index in _NUMERIC and value else value for index, value in enumerate(cells)]
        )
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
