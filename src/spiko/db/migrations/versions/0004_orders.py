"""accounts, bank accounts, orders, share ledger, idempotency keys

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import spiko.db.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bank_accounts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("investor_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("iban", sa.String(length=34), nullable=False),
        sa.Column("bic", sa.String(length=11), nullable=False),
        sa.Column("created_at", spiko.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["investor_id"],
            ["investors.id"],
            name=op.f("fk_bank_accounts_investor_id_investors"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_accounts")),
        sa.UniqueConstraint("investor_id", "iban", name="uq_bank_accounts_investor_iban"),
    )
    with op.batch_alter_table("bank_accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bank_accounts_investor_id"), ["investor_id"], unique=False)

    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("investor_id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=300), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=False),
        sa.Column("response_body", sa.Text(), nullable=False),
        sa.Column("created_at", spiko.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", spiko.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["investor_id"],
            ["investors.id"],
            name=op.f("fk_idempotency_keys_investor_id_investors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("investor_id", "key", name="uq_idempotency_keys_investor_key"),
    )
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idempotency_keys_expires_at"), ["expires_at"], unique=False)

    op.create_table(
        "accounts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("investor_id", sa.String(length=36), nullable=False),
        sa.Column("share_class_id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("network", sa.String(length=32), nullable=False),
        sa.Column("blockchain_address", sa.String(length=80), nullable=False),
        sa.Column("virtual_iban", sa.String(length=34), nullable=False),
        sa.Column("created_at", spiko.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["investor_id"],
            ["investors.id"],
            name=op.f("fk_accounts_investor_id_investors"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["share_class_id"],
            ["share_classes.id"],
            name=op.f("fk_accounts_share_class_id_share_classes"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("virtual_iban", name=op.f("uq_accounts_virtual_iban")),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_accounts_investor_id"), ["investor_id"], unique=False)

    op.create_table(
        "deposit_orders",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("investor_id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("share_class_id", sa.String(length=36), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("bank_account_id", sa.String(length=36), nullable=True),
        sa.Column("amount", spiko.db.types.ExactDecimal(6), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("wire_reference", sa.String(length=15), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", spiko.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_day", sa.Date(), nullable=False),
        sa.Column("scheduled_day", sa.Date(), nullable=True),
        sa.Column("funded_at", spiko.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("funded_day", sa.Date(), nullable=True),
        sa.Column("executed_at", spiko.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("execution_day", sa.Date(), nullable=True),
        sa.Column("canceled_at", spiko.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("shares", spiko.db.types.ExactDecimal(12), nullable=True),
        sa.Column("nav", spiko.db.types.ExactDecimal(12), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_deposit_orders_account_id_accounts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["bank_account_id"],
            ["bank_accounts.id"],
            name=op.f("fk_deposit_orders_bank_account_id_bank_accounts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["investor_id"],
            ["investors.id"],
            name=op.f("fk_deposit_orders_investor_id_investors"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["share_class_id"],
            ["share_classes.id"],
            name=op.f("fk_deposit_orders_share_class_id_share_classes"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deposit_orders")),
        sa.UniqueConstraint("wire_reference", name=op.f("uq_deposit_orders_wire_reference")),
    )
    with op.batch_alter_table("deposit_orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deposit_orders_account_id"), ["account_id"], unique=False)
        batch_op.create_index("ix_deposit_orders_investor_status", ["investor_id", "status"], unique=False)
        batch_op.create_index("ix_deposit_orders_status_funded_day", ["status", "funded_day"], unique=False)

    op.create_table(
        "share_movements",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("investor_id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("share_class_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("executed_at", spiko.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("shares", spiko.db.types.ExactDecimal(12), nullable=False),
        sa.Column("amount", spiko.db.types.ExactDecimal(6), nullable=False),
        sa.Column("nav", spiko.db.types.ExactDecimal(12), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_at", spiko.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('subscription', 'redemption', 'transfer_in', 'transfer_out')",
            name=op.f("ck_share_movements_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_share_movements_account_id_accounts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["investor_id"],
            ["investors.id"],
            name=op.f("fk_share_movements_investor_id_investors"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["share_class_id"],
            ["share_classes.id"],
            name=op.f("fk_share_movements_share_class_id_share_classes"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_movements")),
    )
    with op.batch_alter_table("share_movements", schema=None) as batch_op:
        batch_op.create_index(
            "ix_share_movements_account_class_day", ["account_id", "share_class_id", "day"], unique=False
        )
        batch_op.create_index("ix_share_movements_investor_day", ["investor_id", "day"], unique=False)
        batch_op.create_index(batch_op.f("ix_share_movements_order_id"), ["order_id"], unique=False)

    op.create_table(
        "transfer_orders",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("investor_id", sa.String(length=36), nullable=False),
        sa.Column("from_account_id", sa.String(length=36), nullable=False),
        sa.Column("to_account_id", sa.String(length=36), nullable=False),
        sa.Column("share_class_id", sa.String(length=36), nullable=False),
        sa.Column("quantity_mode", sa.String(length=16), nullable=False),
        sa.Column("shares", spiko.db.types.ExactDecimal(12), nullable=False),
        sa.Column("amount", spiko.db.types.ExactDecimal(6), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("nav", spiko.db.types.ExactDecimal(12), nullable=False),
        sa.Column("nav_day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", spiko.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("executed_at", spiko.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["from_account_id"],
            ["accounts.id"],
            name=op.f("fk_transfer_orders_from_account_id_accounts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["investor_id"],
            ["investors.id"],
            name=op.f("fk_transfer_orders_investor_id_investors"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["share_class_id"],
            ["share_classes.id"],
            name=op.f("fk_transfer_orders_share_class_id_share_classes"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["to_account_id"],
            ["accounts.id"],
            name=op.f("fk_transfer_orders_to_account_id_accounts"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfer_orders")),
    )
    with op.batch_alter_table("transfer_orders", schema=None) as batch_op:
        batch_op.create_index("ix_transfer_orders_investor_status", ["investor_id", "status"], unique=False)

    op.create_table(
        "withdrawal_orders",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("investor_id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("share_class_id", sa.String(length=36), nullable=False),
        sa.Column("bank_account_id", sa.String(length=36), nullable=False),
        sa.Column("destination_type", sa.String(length=32), nullable=False),
        sa.Column("origin", sa.String(length=32), nullable=False),
        sa.Column("quantity_mode", sa.String(length=16), nullable=False),
        sa.Column("requested_amount", spiko.db.types.ExactDecimal(6), nullable=True),
        sa.Column("requested_shares", spiko.db.types.ExactDecimal(12), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reserved_shares", spiko.db.types.ExactDecimal(12), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", spiko.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_day", sa.Date(), nullable=False),
        sa.Column("executed_at", spiko.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("execution_day", sa.Date(), nullable=True),
        sa.Column("canceled_at", spiko.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("shares", spiko.db.types.ExactDecimal(12), nullable=True),
        sa.Column("amount", spiko.db.types.ExactDecimal(6), nullable=True),
        sa.Column("nav", spiko.db.types.ExactDecimal(12), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_withdrawal_orders_account_id_accounts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["bank_account_id"],
            ["bank_accounts.id"],
            name=op.f("fk_withdrawal_orders_bank_account_id_bank_accounts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["investor_id"],
            ["investors.id"],
            name=op.f("fk_withdrawal_orders_investor_id_investors"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["share_class_id"],
            ["share_classes.id"],
            name=op.f("fk_withdrawal_orders_share_class_id_share_classes"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_withdrawal_orders")),
    )
    with op.batch_alter_table("withdrawal_orders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_withdrawal_orders_account_status", ["account_id", "share_class_id", "status"], unique=False
        )
        batch_op.create_index("ix_withdrawal_orders_investor_status", ["investor_id", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("withdrawal_orders", schema=None) as batch_op:
        batch_op.drop_index("ix_withdrawal_orders_investor_status")
        batch_op.drop_index("ix_withdrawal_orders_account_status")

    op.drop_table("withdrawal_orders")
    with op.batch_alter_table("transfer_orders", schema=None) as batch_op:
        batch_op.drop_index("ix_transfer_orders_investor_status")

    op.drop_table("transfer_orders")
    with op.batch_alter_table("share_movements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_share_movements_order_id"))
        batch_op.drop_index("ix_share_movements_investor_day")
        batch_op.drop_index("ix_share_movements_account_class_day")

    op.drop_table("share_movements")
    with op.batch_alter_table("deposit_orders", schema=None) as batch_op:
        batch_op.drop_index("ix_deposit_orders_status_funded_day")
        batch_op.drop_index("ix_deposit_orders_investor_status")
        batch_op.drop_index(batch_op.f("ix_deposit_orders_account_id"))

    op.drop_table("deposit_orders")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accounts_investor_id"))

    op.drop_table("accounts")
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotency_keys_expires_at"))

    op.drop_table("idempotency_keys")
    with op.batch_alter_table("bank_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bank_accounts_investor_id"))

    op.drop_table("bank_accounts")
