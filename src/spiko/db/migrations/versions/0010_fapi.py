"""FAPI 2.0: client keys and profile, pushed authorization requests, DPoP bindings, used jtis

``oauth_clients`` gains its public keys (``jwks`` or ``jwks_uri``, for ``private_key_jwt``), its
profile and its PAR and DPoP requirements; codes and tokens gain the DPoP key they are bound to;
``oauth_pushed_requests`` keeps pushed authorization requests (RFC 9126) and
``oauth_used_jtis`` the identifiers of DPoP proofs and client assertions already seen.

Revision ID: 0010
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import spiko.db.types

revision = "0010"
down_revision = "0012"
branch_labels = None
depends_on = None


def _utc() -> spiko.db.types.UTCDateTime:
    return spiko.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("oauth_clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("jwks", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("jwks_uri", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("profile", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("require_par", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("dpop_bound", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("oauth_authorization_codes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dpop_jkt", sa.String(length=64), nullable=True))
    with op.batch_alter_table("oauth_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dpop_jkt", sa.String(length=64), nullable=True))
    op.create_table(
        "oauth_pushed_requests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("request_uri_hash", sa.String(length=64), nullable=False),
        sa.Column("client_pk", sa.String(length=36), nullable=False),
        sa.Column("parameters", sa.Text(), nullable=False),
        sa.Column("dpop_jkt", sa.String(length=64), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("expires_at", _utc(), nullable=False),
        sa.Column("opened_at", _utc(), nullable=True),
        sa.Column("used_at", _utc(), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_pk"],
            ["oauth_clients.id"],
            name=op.f("fk_oauth_pushed_requests_client_pk_oauth_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_pushed_requests")),
        sa.UniqueConstraint("request_uri_hash", name=op.f("uq_oauth_pushed_requests_request_uri_hash")),
    )
    op.create_table(
        "oauth_used_jtis",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_oauth_used_jtis")),
    )
    op.create_index(op.f("ix_oauth_used_jtis_expires_at"), "oauth_used_jtis", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_oauth_used_jtis_expires_at"), table_name="oauth_used_jtis")
    op.drop_table("oauth_used_jtis")
    op.drop_table("oauth_pushed_requests")
    with op.batch_alter_table("oauth_tokens", schema=None) as batch_op:
        batch_op.drop_column("dpop_jkt")
    with op.batch_alter_table("oauth_authorization_codes", schema=None) as batch_op:
        batch_op.drop_column("dpop_jkt")
    with op.batch_alter_table("oauth_clients", schema=None) as batch_op:
        batch_op.drop_column("dpop_bound")
        batch_op.drop_column("require_par")
        batch_op.drop_column("profile")
        batch_op.drop_column("jwks_uri")
        batch_op.drop_column("jwks")
