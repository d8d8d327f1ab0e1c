"""DPoP proofs on /v1: their single-use record ordered by time

``oauth_resource_jtis``: the proofs presented on /v1, keyed by (``issued_at``, ``key``), without
a rowid on SQLite. A batch of new proofs lands at the end of the primary key's index instead of
on a random page of it per proof, and the expired rows are deleted as one range at its start.
The proofs recorded before in ``oauth_used_jtis`` (which keeps those of the token endpoint, PAR
and client assertions) are stale within a minute, so nothing is carried over.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oauth_resource_jtis",
        sa.Column("issued_at", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("issued_at", "key", name=op.f("pk_oauth_resource_jtis")),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("oauth_resource_jtis")
