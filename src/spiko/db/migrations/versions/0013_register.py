"""register: fund cut-offs, a sandbox clock with a time of day, trade days, closed days, corrections

``funds.cut_off`` ("HH:MM" in the fund's own timezone); ``sandbox_clock.moment`` (the sandbox
instant when a time of day was set; the clock runs on from it); ``deposit_orders.trade_day`` and
``withdrawal_orders.trade_day`` (the business day an order trades on, from its receipt time and
the cut-off; earlier orders take the day they were created); ``fund_closes`` (one row per fund
and closed day: the day can no longer change); ``order_corrections`` and
``share_movements.correction_id`` (a correction is a reversal plus a new entry, both ledger rows);
on PostgreSQL, the ledger trigger skips its per-account lock inside a close (which holds the
share class's lock instead).

Revision ID: 0013
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import spiko.db.types

revision = "0013"
down_revision = "0016"
branch_labels = None
depends_on = None


def _movement_trigger(bulk_aware: bool) -> str:
    # A close inserts thousands of movements in one transaction: one advisory lock per account
    # would exhaust PostgreSQL's lock table. It takes the share class's NAV lock exclusively
    # instead (every refill takes it shared first) and says so with ``spiko.bulk_movements``.
    guard = "current_setting('spiko.bulk_movements', true) IS DISTINCT FROM 'on'"
    lock = (
        "PERFORM pg_advisory_xact_lock(hashtextextended({row}.account_id || '/' || {row}.share_class_id, 0));"
    )
    locks = {
        row: (f"IF {guard} THEN {lock.format(row=row)} END IF;" if bulk_aware else lock.format(row=row))
        for row in ("OLD", "NEW")
    }
    return _MOVEMENT_FUNCTION.replace("{old_lock}", locks["OLD"]).replace("{new_lock}", locks["NEW"])


_MOVEMENT_FUNCTION = """
    CREATE OR REPLACE FUNCTION spiko_invalidate_positions_on_movement() RETURNS trigger AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            {old_lock}
            DELETE FROM daily_positions WHERE account_id = OLD.account_id
                AND share_class_id = OLD.share_class_id AND day >= OLD.day;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            {new_lock}
            DELETE FROM daily_positions WHERE account_id = NEW.account_id
                AND share_class_id = NEW.share_class_id AND day >= NEW.day;
        END IF;
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_movement_trigger(bulk_aware=True))
    # Plain ADD COLUMNs (not batch copies), so the ledger's triggers stay in place.
    op.add_column("funds", sa.Column("cut_off", sa.String(length=5), nullable=False, server_default="16:00"))
    op.add_column(
        "sandbox_clock", sa.Column("moment", spiko.db.types.UTCDateTime(timezone=True), nullable=True)
    )
    op.add_column("deposit_orders", sa.Column("trade_day", sa.Date(), nullable=True))
    op.add_column("withdrawal_orders", sa.Column("trade_day", sa.Date(), nullable=True))
    op.execute("UPDATE deposit_orders SET trade_day = created_day")
    op.execute("UPDATE withdrawal_orders SET trade_day = created_day")
    op.add_column("share_movements", sa.Column("correction_id", sa.String(length=36), nullable=True))
    op.create_table(
        "fund_closes",
        sa.Column("fund_id", sa.String(length=36), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("closed_at", spiko.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["fund_id"], ["funds.id"], name=op.f("fk_fund_closes_fund_id_funds"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("fund_id", "day", name=op.f("pk_fund_closes")),
    )
    op.create_table(
        "order_corrections",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("order_kind", sa.String(length=16), nullable=False),
        sa.Column("share_class_id", sa.String(length=36), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("old_nav", spiko.db.types.ExactDecimal(scale=12), nullable=False),
        sa.Column("new_nav", spiko.db.types.ExactDecimal(scale=12), nullable=False),
        sa.Column("old_shares", spiko.db.types.ExactDecimal(scale=12), nullable=False),
        sa.Column("new_shares", spiko.db.types.ExactDecimal(scale=12), nullable=False),
        sa.Column("old_amount", spiko.db.types.ExactDecimal(scale=6), nullable=False),
        sa.Column("new_amount", spiko.db.types.ExactDecimal(scale=6), nullable=False),
        sa.Column("created_at", spiko.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["share_class_id"],
            ["share_classes.id"],
            name=op.f("fk_order_corrections_share_class_id_share_classes"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_corrections")),
    )
    op.create_index("ix_order_corrections_order", "order_corrections", ["order_id"])
    op.create_index(
        "ix_deposit_orders_class_status_trade_day",
        "deposit_orders",
        ["share_class_id", "status", "trade_day"],
    )
    op.create_index(
        "ix_withdrawal_orders_class_status_trade_day",
        "withdrawal_orders",
        ["share_class_id", "status", "trade_day"],
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_movement_trigger(bulk_aware=False))
    op.drop_index("ix_withdrawal_orders_class_status_trade_day", table_name="withdrawal_orders")
    op.drop_index("ix_deposit_orders_class_status_trade_day", table_name="deposit_orders")
    op.drop_index("ix_order_corrections_order", table_name="order_corrections")
    op.drop_table("order_corrections")
    op.drop_table("fund_closes")
    op.drop_column("share_movements", "correction_id")
    op.drop_column("withdrawal_orders", "trade_day")
    op.drop_column("deposit_orders", "trade_day")
    op.drop_column("sandbox_clock", "moment")
    op.drop_column("funds", "cut_off")
