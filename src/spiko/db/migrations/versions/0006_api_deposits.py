"""share classes: whether deposit orders may be created through the API

``share_classes.api_deposits_allowed``: when false, ``POST /v1/deposit-orders`` (and its
direct-debit and deprecated subscription forms) answers ``DepositNotAllowedError`` and the
investor wires the money directly instead. Every existing share class keeps accepting them.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("share_classes") as batch:
        batch.add_column(
            sa.Column("api_deposits_allowed", sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade() -> None:
    with op.batch_alter_table("share_classes") as batch:
        batch.drop_column("api_deposits_allowed")
