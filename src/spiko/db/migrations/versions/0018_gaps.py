"""FAPI 2.0 gaps: the algorithm of a client's ID tokens

``oauth_clients.id_token_signed_response_alg`` (OpenID Connect Dynamic Client Registration 1.0
section 2): RS256, PS256 or ES256; none means the server's default for the client's profile.

Revision ID: 0018
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("oauth_clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("id_token_signed_response_alg", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("oauth_clients", schema=None) as batch_op:
        batch_op.drop_column("id_token_signed_response_alg")
