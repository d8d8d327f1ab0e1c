"""members and roles, security events, links sent by mail

``users`` gain a ``role`` (owner, admin, trader, viewer; every existing user becomes an owner, so
nobody loses access) and ``email_verified_at``; ``api_keys`` record the member who created them
(``created_by_user_id``, NULL for operators' keys). ``security_events`` is an investor's
security activity; ``member_tokens`` keeps the SHA-256 of each single-use link sent by mail
(invitations, password resets, email verifications).

Revision ID: 0016
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import spiko.db.types

revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None


def _utc() -> spiko.db.types.UTCDateTime:
    return spiko.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("role", sa.String(length=16), server_default="owner", nullable=False))
        batch_op.add_column(sa.Column("email_verified_at", _utc(), nullable=True))
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("created_by_user_id", sa.String(length=36), nullable=True))
        batch_op.create_foreign_key(
            "fk_api_keys_created_by_user_id_users",
            "users",
            ["created_by_user_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_table(
        "security_events",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("investor_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["investor_id"],
            ["investors.id"],
            name="fk_security_events_investor_id_investors",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_security_events_user_id_users", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_security_events"),
    )
    op.create_index("ix_security_events_investor_at", "security_events", ["investor_id", "created_at"])
    op.create_index("ix_security_events_user_id", "security_events", ["user_id"])
    op.create_table(
        "member_tokens",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("purpose", sa.String(length=24), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("investor_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=True),
        sa.Column("created_by_user_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("expires_at", _utc(), nullable=False),
        sa.Column("used_at", _utc(), nullable=True),
        sa.ForeignKeyConstraint(
            ["investor_id"],
            ["investors.id"],
            name="fk_member_tokens_investor_id_investors",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_member_tokens_user_id_users", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name="fk_member_tokens_created_by_user_id_users",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_member_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_member_tokens_token_hash"),
    )
    op.create_index(
        "ix_member_tokens_investor_purpose", "member_tokens", ["investor_id", "purpose", "used_at"]
    )
    op.create_index("ix_member_tokens_user_id", "member_tokens", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_member_tokens_user_id", table_name="member_tokens")
    op.drop_index("ix_member_tokens_investor_purpose", table_name="member_tokens")
    op.drop_table("member_tokens")
    op.drop_index("ix_security_events_user_id", table_name="security_events")
    op.drop_index("ix_security_events_investor_at", table_name="security_events")
    op.drop_table("security_events")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_constraint("fk_api_keys_created_by_user_id_users", type_="foreignkey")
        batch_op.drop_column("created_by_user_id")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("email_verified_at")
        batch_op.drop_column("role")
