"""second factors, passkeys, recovery codes and session details

``totp_factors`` (encrypted shared secrets), ``passkeys`` (WebAuthn credentials),
``recovery_codes`` (keyed hashes), ``webauthn_used_challenges`` (each challenge answered once),
``second_factor_policies`` (an operator requires a second factor of an investor's users); and on
``web_sessions`` the sign-in stage, the time of the last check, and what the security page lists
(address, device, last seen).

Revision ID: 0015
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import spiko.db.types

revision = "0015"
down_revision = "0013"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, spiko.db.types.UTCDateTime(timezone=True), nullable=nullable)


def _user(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["user_id"], ["users.id"], name=op.f(f"fk_{table}_user_id_users"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "totp_factors",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("secret_ciphertext", sa.String(length=200), nullable=False),
        _when("confirmed_at", nullable=True),
        sa.Column("last_used_step", sa.BigInteger(), nullable=True),
        _when("created_at"),
        _user("totp_factors"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_totp_factors")),
        sa.UniqueConstraint("user_id", name=op.f("uq_totp_factors_user_id")),
    )
    op.create_table(
        "passkeys",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("credential_id", sa.String(length=1400), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("transports", sa.String(length=200), nullable=False),
        _when("created_at"),
        _when("last_used_at", nullable=True),
        _user("passkeys"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_passkeys")),
        sa.UniqueConstraint("credential_id", name=op.f("uq_passkeys_credential_id")),
    )
    op.create_index(op.f("ix_passkeys_user_id"), "passkeys", ["user_id"], unique=False)
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        _when("used_at", nullable=True),
        _when("created_at"),
        _user("recovery_codes"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
        sa.UniqueConstraint("user_id", "code_hash", name="uq_recovery_codes_user_code"),
    )
    op.create_index(op.f("ix_recovery_codes_user_id"), "recovery_codes", ["user_id"], unique=False)
    op.create_table(
        "webauthn_used_challenges",
        sa.Column("challenge_hash", sa.String(length=64), nullable=False),
        _when("expires_at"),
        sa.PrimaryKeyConstraint("challenge_hash", name=op.f("pk_webauthn_used_challenges")),
    )
    op.create_index(
        op.f("ix_webauthn_used_challenges_expires_at"),
        "webauthn_used_challenges",
        ["expires_at"],
        unique=False,
    )
    op.create_table(
        "second_factor_policies",
        sa.Column("investor_id", sa.String(length=36), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        _when("updated_at"),
        sa.ForeignKeyConstraint(
            ["investor_id"],
            ["investors.id"],
            name=op.f("fk_second_factor_policies_investor_id_investors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("investor_id", name=op.f("pk_second_factor_policies")),
    )
    with op.batch_alter_table("web_sessions") as batch:
        batch.add_column(sa.Column("stage", sa.String(length=16), nullable=False, server_default="signed_in"))
        batch.add_column(_when("verified_at", nullable=True))
        batch.add_column(_when("last_seen_at", nullable=True))
        batch.add_column(sa.Column("address", sa.String(length=64), nullable=False, server_default=""))
        batch.add_column(sa.Column("device", sa.String(length=200), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("web_sessions") as batch:
        for column in ("device", "address", "last_seen_at", "verified_at", "stage"):
            batch.drop_column(column)
    op.drop_table("second_factor_policies")
    op.drop_index(op.f("ix_webauthn_used_challenges_expires_at"), table_name="webauthn_used_challenges")
    op.drop_table("webauthn_used_challenges")
    op.drop_index(op.f("ix_recovery_codes_user_id"), table_name="recovery_codes")
    op.drop_table("recovery_codes")
    op.drop_index(op.f("ix_passkeys_user_id"), table_name="passkeys")
    op.drop_table("passkeys")
    op.drop_table("totp_factors")
