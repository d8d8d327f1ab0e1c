"""reporting tables and indexes

``daily_positions`` (materialized end-of-day positions), the triggers that invalidate it when
the share ledger or the NAVs change, and the keyset indexes the account-transactions listing
reads the order tables through.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import spiko.db.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# (index name, table, columns): newest-first / oldest-first pages of an account's orders.
ORDER_KEYSET_INDEXES = (
    ("ix_deposit_orders_account_created", "deposit_orders", ["account_id", "created_at", "id"]),
    ("ix_withdrawal_orders_account_created", "withdrawal_orders", ["account_id", "created_at", "id"]),
    ("ix_transfer_orders_from_account_created", "transfer_orders", ["from_account_id", "created_at", "id"]),
    ("ix_transfer_orders_to_account_created", "transfer_orders", ["to_account_id", "created_at", "id"]),
)

_SQLITE_TRIGGERS = [
    # Any change to a day's movements voids that day and every later day of the position.
    """
    CREATE TRIGGER trg_share_movements_ins_positions AFTER INSERT ON share_movements
    BEGIN
        DELETE FROM daily_positions WHERE account_id = NEW.account_id
            AND share_class_id = NEW.share_class_id AND day >= NEW.day;
    END
    """,
    """
    CREATE TRIGGER trg_share_movements_del_positions AFTER DELETE ON share_movements
    BEGIN
        DELETE FROM daily_positions WHERE account_id = OLD.account_id
            AND share_class_id = OLD.share_class_id AND day >= OLD.day;
    END
    """,
    """
    CREATE TRIGGER trg_share_movements_upd_positions AFTER UPDATE ON share_movements
    BEGIN
        DELETE FROM daily_positions WHERE account_id = OLD.account_id
            AND share_class_id = OLD.share_class_id AND day >= OLD.day;
        DELETE FROM daily_positions WHERE account_id = NEW.account_id
            AND share_class_id = NEW.share_class_id AND day >= NEW.day;
    END
    """,
    """
    CREATE TRIGGER trg_net_asset_values_ins_positions AFTER INSERT ON net_asset_values
    BEGIN
        DELETE FROM daily_positions WHERE share_class_id = NEW.share_class_id AND day >= NEW.day;
    END
    """,
    """
    CREATE TRIGGER trg_net_asset_values_del_positions AFTER DELETE ON net_asset_values
    BEGIN
        DELETE FROM daily_positions WHERE share_class_id = OLD.share_class_id AND day >= OLD.day;
    END
    """,
    """
    CREATE TRIGGER trg_net_asset_values_upd_positions AFTER UPDATE ON net_asset_values
    BEGIN
        DELETE FROM daily_positions WHERE share_class_id = OLD.share_class_id AND day >= OLD.day;
    END
    """,
]

_SQLITE_TRIGGER_NAMES = [
    "trg_share_movements_ins_positions",
    "trg_share_movements_del_positions",
    "trg_share_movements_upd_positions",
    "trg_net_asset_values_ins_positions",
    "trg_net_asset_values_del_positions",
    "trg_net_asset_values_upd_positions",
]

# On PostgreSQL the trigger also takes the transaction-scoped advisory lock that the refill
# takes (same key), so a refill that read the ledger before a movement committed cannot store
# rows that the movement's invalidation has already missed.
_PG_FUNCTIONS = [
    """
    CREATE FUNCTION spiko_invalidate_positions_on_movement() RETURNS trigger AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            PERFORM pg_advisory_xact_lock(hashtextextended(OLD.account_id || '/' || OLD.share_class_id, 0));
            DELETE FROM daily_positions WHERE account_id = OLD.account_id
                AND share_class_id = OLD.share_class_id AND day >= OLD.day;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            PERFORM pg_advisory_xact_lock(hashtextextended(NEW.account_id || '/' || NEW.share_class_id, 0));
            DELETE FROM daily_positions WHERE account_id = NEW.account_id
                AND share_class_id = NEW.share_class_id AND day >= NEW.day;
        END IF;
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE FUNCTION spiko_invalidate_positions_on_nav() RETURNS trigger AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            PERFORM pg_advisory_xact_lock(hashtextextended('nav/' || OLD.share_class_id, 0));
            DELETE FROM daily_positions WHERE share_class_id = OLD.share_class_id AND day >= OLD.day;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            PERFORM pg_advisory_xact_lock(hashtextextended('nav/' || NEW.share_class_id, 0));
            DELETE FROM daily_positions WHERE share_class_id = NEW.share_class_id AND day >= NEW.day;
        END IF;
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER trg_share_movements_positions AFTER INSERT OR UPDATE OR DELETE ON share_movements
    FOR EACH ROW EXECUTE FUNCTION spiko_invalidate_positions_on_movement()
    """,
    """
    CREATE TRIGGER trg_net_asset_values_positions AFTER INSERT OR UPDATE OR DELETE ON net_asset_values
    FOR EACH ROW EXECUTE FUNCTION spiko_invalidate_positions_on_nav()
    """,
]


def upgrade() -> None:
    money = spiko.db.types.ExactDecimal(scale=6)
    op.create_table(
        "daily_positions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("investor_id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("share_class_id", sa.String(length=36), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("nav_id", sa.String(length=36), nullable=True),
        sa.Column("nav_day", sa.Date(), nullable=True),
        sa.Column("nav", spiko.db.types.ExactDecimal(scale=12), nullable=True),
        sa.Column("shares", spiko.db.types.ExactDecimal(scale=12), nullable=False),
        sa.Column("holdings", money, nullable=False),
        sa.Column("cost_basis", money, nullable=False),
        sa.Column("subscriptions", money, nullable=False),
        sa.Column("redemptions", money, nullable=False),
        sa.Column("transfers", money, nullable=False),
        sa.Column("yield", money, nullable=False),
        sa.Column("realized_gain", money, nullable=False),
        sa.Column("transferred_gain", money, nullable=False),
        sa.Column("subscriptions_total", money, nullable=False),
        sa.Column("redemptions_total", money, nullable=False),
        sa.Column("transfers_total", money, nullable=False),
        sa.Column("yield_total", money, nullable=False),
        sa.Column("realized_gain_total", money, nullable=False),
        sa.Column("transferred_gain_total", money, nullable=False),
        sa.Column("accrual_at", spiko.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_daily_positions_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["investor_id"],
            ["investors.id"],
            name=op.f("fk_daily_positions_investor_id_investors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["share_class_id"],
            ["share_classes.id"],
            name=op.f("fk_daily_positions_share_class_id_share_classes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_daily_positions")),
        sa.UniqueConstraint(
            "account_id", "share_class_id", "day", name="uq_daily_positions_account_class_day"
        ),
    )
    with op.batch_alter_table("daily_positions", schema=None) as batch_op:
        batch_op.create_index("ix_daily_positions_day_share_class", ["day", "share_class_id"], unique=False)
        batch_op.create_index(
            "ix_daily_positions_account_accrual", ["account_id", "accrual_at", "id"], unique=False
        )
    for name, table, columns in ORDER_KEYSET_INDEXES:
        op.create_index(name, table, columns, unique=False)

    statements = _PG_FUNCTIONS if op.get_bind().dialect.name == "postgresql" else _SQLITE_TRIGGERS
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS trg_share_movements_positions ON share_movements")
        op.execute("DROP TRIGGER IF EXISTS trg_net_asset_values_positions ON net_asset_values")
        op.execute("DROP FUNCTION IF EXISTS spiko_invalidate_positions_on_movement()")
        op.execute("DROP FUNCTION IF EXISTS spiko_invalidate_positions_on_nav()")
    else:
        for name in _SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    for name, table, _columns in ORDER_KEYSET_INDEXES:
        op.drop_index(name, table_name=table)
    with op.batch_alter_table("daily_positions", schema=None) as batch_op:
        batch_op.drop_index("ix_daily_positions_account_accrual")
        batch_op.drop_index("ix_daily_positions_day_share_class")
    op.drop_table("daily_positions")
