"""Trust: spending on the server's keys (reserved before a call, settled after), sign-in attempts that survive
reloads and replicas, and a room's budget.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("rooms", sa.Column("budget_usd", sa.Float))
    op.create_table(
        "spending",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("session_id", sa.Text),
        sa.Column("room", sa.Text),
        sa.Column("day", sa.Text, nullable=False),
        sa.Column("model_id", sa.Text, nullable=False),
        sa.Column("reserved_usd", sa.Float, nullable=False),
        sa.Column("spent_usd", sa.Float),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("settled_at", sa.Float),
        sa.CheckConstraint("state IN ('reserved', 'settled', 'refunded')", name="spending_state"),
    )
    op.create_index("spending_day", "spending", ["day"])
    op.create_index("spending_session", "spending", ["session_id"])
    op.create_index("spending_room", "spending", ["room"])
    op.create_table(
        "sign_in_attempts",
        sa.Column("target", sa.Text, primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last_failure_at", sa.Float, nullable=False),
        sa.Column("locked_until", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sign_in_attempts")
    op.drop_table("spending")
    with op.batch_alter_table("rooms") as batch:
        batch.drop_column("budget_usd")
