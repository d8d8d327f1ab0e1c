"""accounting: the cost basis a transfer carries; positions recomputed under the rounding rule

``share_movements.cost``: the cost basis that shares moved between one investor's own accounts
carry out of one account and into the other (NULL for subscriptions, redemptions and transfers
recorded before it was kept). The stored daily positions are forgotten so that the next read
recomputes them with holdings rounded down (the value of a holding everywhere).

Revision ID: 0011
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import spiko.db.types

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (not a batch copy of the table), so the ledger's triggers stay in place.
    op.add_column("share_movements", sa.Column("cost", spiko.db.types.ExactDecimal(scale=6), nullable=True))
    op.execute("DELETE FROM daily_positions")


def downgrade() -> None:
    op.drop_column("share_movements", "cost")
    op.execute("DELETE FROM daily_positions")
