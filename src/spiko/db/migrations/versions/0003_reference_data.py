"""reference data: funds, share classes, calendars, NAVs, FX rates, sandbox clock

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import spiko.db.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "funds",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("slug", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("execution_method", sa.String(length=16), nullable=False),
        sa.Column("launch_day", sa.Date(), nullable=False),
        sa.Column("created_at", spiko.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_funds")),
        sa.UniqueConstraint("slug", name=op.f("uq_funds_slug")),
    )
    op.create_table(
        "sandbox_clock",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("today", sa.Date(), nullable=True),
        sa.Column("updated_at", spiko.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_clock")),
    )
    op.create_table(
        "exchange_rates",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("fund_id", sa.String(length=36), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("base_currency", sa.String(length=3), nullable=False),
        sa.Column("quote_currency", sa.String(length=3), nullable=False),
        sa.Column("rate", spiko.db.types.ExactDecimal(12), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", spiko.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["fund_id"], ["funds.id"], name=op.f("fk_exchange_rates_fund_id_funds"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_rates")),
        sa.UniqueConstraint(
            "fund_id", "day", "base_currency", "quote_currency", name="uq_exchange_rates_fund_day_pair"
        ),
    )
    with op.batch_alter_table("exchange_rates", schema=None) as batch_op:
        batch_op.create_index(
            "ix_exchange_rates_pair_day", ["base_currency", "quote_currency", "day"], unique=False
        )

    op.create_table(
        "non_operating_days",
        sa.Column("fund_id", sa.String(length=36), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["fund_id"], ["funds.id"], name=op.f("fk_non_operating_days_fund_id_funds"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("fund_id", "day", name=op.f("pk_non_operating_days")),
    )
    op.create_table(
        "share_classes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("fund_id", sa.String(length=36), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("isin", sa.String(length=12), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("nav_decimals", sa.Integer(), nullable=False),
        sa.Column("share_decimals", sa.Integer(), nullable=False),
        sa.Column("use_of_income", sa.String(length=16), nullable=False),
        sa.Column("minimum_initial_deposit", spiko.db.types.ExactDecimal(6), nullable=False),
        sa.Column("minimum_subsequent_deposit", spiko.db.types.ExactDecimal(6), nullable=False),
        sa.Column("minimum_withdrawal", spiko.db.types.ExactDecimal(6), nullable=False),
        sa.Column("subscription_fees", spiko.db.types.ExactDecimal(6), nullable=False),
        sa.Column("redemption_fees", spiko.db.types.ExactDecimal(6), nullable=False),
        sa.Column("management_fees", spiko.db.types.ExactDecimal(6), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("tokens", sa.JSON(), nullable=False),
        sa.Column("bank_account_number", sa.String(length=34), nullable=False),
        sa.Column("bank_account_bic", sa.String(length=11), nullable=False),
        sa.Column("bank_account_intermediary_bic", sa.String(length=11), nullable=True),
        sa.Column("created_at", spiko.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["fund_id"], ["funds.id"], name=op.f("fk_share_classes_fund_id_funds"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_classes")),
        sa.UniqueConstraint("isin", name=op.f("uq_share_classes_isin")),
        sa.UniqueConstraint("symbol", name=op.f("uq_share_classes_symbol")),
    )
    with op.batch_alter_table("share_classes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_share_classes_fund_id"), ["fund_id"], unique=False)

    op.create_table(
        "net_asset_values",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("share_class_id", sa.String(length=36), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("value", spiko.db.types.ExactDecimal(12), nullable=False),
        sa.Column("created_at", spiko.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["share_class_id"],
            ["share_classes.id"],
            name=op.f("fk_net_asset_values_share_class_id_share_classes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_net_asset_values")),
        sa.UniqueConstraint("share_class_id", "day", name="uq_net_asset_values_share_class_day"),
    )


def downgrade() -> None:
    op.drop_table("net_asset_values")
    with op.batch_alter_table("share_classes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_share_classes_fund_id"))
    op.drop_table("share_classes")
    op.drop_table("non_operating_days")
    with op.batch_alter_table("exchange_rates", schema=None) as batch_op:
        batch_op.drop_index("ix_exchange_rates_pair_day")
    op.drop_table("exchange_rates")
    op.drop_table("sandbox_clock")
    op.drop_table("funds")
