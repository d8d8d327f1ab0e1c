"""rate-limit counters in the database

``rate_limit_windows``: sign-in and token-endpoint counters that every worker shares when no
Redis is configured (with Redis they live there instead).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_windows",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("window_started", sa.Float(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limit_windows")),
    )
    op.create_index(
        op.f("ix_rate_limit_windows_window_started"), "rate_limit_windows", ["window_started"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_rate_limit_windows_window_started"), table_name="rate_limit_windows")
    op.drop_table("rate_limit_windows")
