"""Exact sums of decimal columns on every database.

PostgreSQL stores money and shares as NUMERIC, whose ``SUM`` is exact. SQLite stores them as
canonical decimal text (``ExactDecimal``), and its ``SUM`` would turn that text into floats, so
there the rows are read and added up as ``Decimal`` (:func:`spiko.domain.money.exact_sum`).
Every sum of money or shares over database rows goes through these two functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from spiko.domain.money import exact_sum


def _exact_in_sql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def column_sum(session: Session, column: Any, *where: Any) -> Decimal:
    """``SUM(column)`` over the rows matching ``where``, exactly (0 when there are none)."""
    if _exact_in_sql(session):
        total = session.scalar(select(func.sum(column)).where(*where))
        return total if isinstance(total, Decimal) else Decimal(0)
    return exact_sum(session.scalars(select(column).where(*where)))


def grouped_sums(
    session: Session, keys: Sequence[Any], columns: Sequence[Any], *where: Any
) -> list[tuple[tuple[Any, ...], tuple[Decimal, ...]]]:
    """``SELECT keys, SUM(column)... GROUP BY keys ORDER BY keys``, exactly: one (keys, sums) pair
    per group, in key order."""
    if _exact_in_sql(session):
        rows = session.execute(
            select(*keys, *(func.sum(column) for column in columns))
            .where(*where)
            .group_by(*keys)
            .order_by(*keys)
        )
        width = len(keys)
        return [
            (
                tuple(row[:width]),
                tuple(value if isinstance(value, Decimal) else Decimal(0) for value in row[width:]),
            )
            for row in rows
        ]
    groups: dict[tuple[Any, ...], list[list[Decimal]]] = {}
    for row in session.execute(select(*keys, *columns).where(*where)):
        key = tuple(row[: len(keys)])
        values = groups.setdefault(key, [[] for _ in columns])
        for index, value in enumerate(row[len(keys) :]):
            values[index].append(value if isinstance(value, Decimal) else Decimal(0))
    return [(key, tuple(exact_sum(values) for values in groups[key])) for key in sorted(groups)]
