"""The figures of a daily position are named once (``domain.positions.ADDITIVE_FIELDS``): the stored
table has a column for each, and the domain's position has no other figure."""

from __future__ import annotations

import dataclasses

from spiko.db.models.reporting import DailyPosition as DailyPositionRow
from spiko.domain.positions import ADDITIVE_FIELDS, DailyPosition


def test_every_figure_of_a_position_is_additive_but_its_day_status_and_nav():
    fields = [field.name for field in dataclasses.fields(DailyPosition)]
    assert [name for name in fields if name not in ADDITIVE_FIELDS] == ["day", "status", "nav"]
    assert sorted(ADDITIVE_FIELDS) == sorted(set(ADDITIVE_FIELDS))


def test_the_stored_table_has_a_column_for_each_figure():
    columns = DailyPositionRow.__mapper__.column_attrs.keys()
    assert set(ADDITIVE_FIELDS) <= set(columns)
