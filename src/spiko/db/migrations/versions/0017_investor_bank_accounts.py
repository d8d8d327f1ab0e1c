"""bank accounts investors add themselves

``bank_accounts.added_by``: ``operator`` (every row made before, and ``spiko bank-accounts add``)
or ``investor`` (the investor app); ``usable_from``: when a withdrawal may first be paid to it
(NULL: at once); ``removed_at``: when the investor removed it (the row stays, as past
withdrawals name it).

Revision ID: 0017
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import spiko.db.types

revision = "0017"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bank_accounts") as batch:
        batch.add_column(
            sa.Column("added_by", sa.String(length=16), nullable=False, server_default="operator")
        )
        batch.add_column(sa.Column("usable_from", spiko.db.types.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("removed_at", spiko.db.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bank_accounts") as batch:
        batch.drop_column("removed_at")
        batch.drop_column("usable_from")
        batch.drop_column("added_by")
