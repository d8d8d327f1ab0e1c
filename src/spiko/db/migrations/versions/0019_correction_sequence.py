"""corrections: the place of each correction among its order's corrections

``order_corrections.sequence`` (1, 2, … per order, unique with the order): an order's current
entry is its last correction's new entry, and two corrections booked at the same instant (the
sandbox clock stands still) are still told apart. Existing rows are numbered in the order they
were booked.

``ix_share_movements_corrections``: a partial index of the ledger rows of corrections, by account
and booking time, which an account's transactions read to list a correction's two entries.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("order_corrections", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sequence", sa.Integer(), nullable=True))
    op.execute(
        """
        UPDATE order_corrections SET sequence = (
            SELECT count(*) FROM order_corrections AS earlier
            WHERE earlier.order_id = order_corrections.order_id
              AND (earlier.created_at < order_corrections.created_at
                   OR (earlier.created_at = order_corrections.created_at
                       AND earlier.id <= order_corrections.id))
        )
        """
    )
    with op.batch_alter_table("order_corrections", schema=None) as batch_op:
        batch_op.alter_column("sequence", existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_order_corrections_order_id"), ["order_id", "sequence"]
        )
    op.create_index(
        "ix_share_movements_corrections",
        "share_movements",
        ["account_id", "executed_at", "id"],
        postgresql_where=sa.text("correction_id IS NOT NULL"),
        sqlite_where=sa.text("correction_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_share_movements_corrections", table_name="share_movements")
    with op.batch_alter_table("order_corrections", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_order_corrections_order_id"), type_="unique")
        batch_op.drop_column("sequence")
