"""The run history as playground/history.py wrote it (runs + settings), before the store had migrations.

A file that history.py made already has these tables and no alembic_version: this step leaves them as they are,
so such a file upgrades in place with nothing lost.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = sa.inspect(op.get_bind()).get_table_names()
    if "runs" not in existing:
        op.create_table(
            "runs",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("ts", sa.Float, nullable=False),
            sa.Column("page", sa.Text, nullable=False),
            sa.Column("model_id", sa.Text, nullable=False),
            sa.Column("model_name", sa.Text),
            sa.Column("openness", sa.Text),
            sa.Column("params", sa.Text),
            sa.Column("input", sa.Text),
            sa.Column("output", sa.Text),
            sa.Column("ttft_s", sa.Float),
            sa.Column("total_s", sa.Float),
            sa.Column("load_s", sa.Float),
            sa.Column("tokens_in", sa.Integer),
            sa.Column("tokens_out", sa.Integer),
            sa.Column("tokens_per_s", sa.Float),
            sa.Column("cost_usd", sa.Float),
            sa.Column("api_cost_usd", sa.Float),
            sa.Column("hardware_cost_usd", sa.Float),
            sa.Column("cost_source", sa.Text),
            sa.Column("cold", sa.Integer, nullable=False, server_default="0"),
            sa.Column("error", sa.Text),
        )
        op.create_index("runs_ts", "runs", ["ts"])
    if "settings" not in existing:
        op.create_table(
            "settings",
            sa.Column("name", sa.Text, primary_key=True),
            sa.Column("value", sa.Text, nullable=False),
        )


def downgrade() -> None:
    op.drop_table("settings")
    op.drop_table("runs")
