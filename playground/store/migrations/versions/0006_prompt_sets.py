"""Prompt sets: a run of a set of prompts on several models, and one cell per (row, model) with its checks.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "prompt_set_runs",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("session_id", sa.Text),
        sa.Column("room", sa.Text),
        sa.Column("set_name", sa.Text, nullable=False),
        sa.Column("prompt_set", sa.JSON, nullable=False),
        sa.Column("models", sa.JSON, nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("rerun_of", sa.Text),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("finished_at", sa.Float),
    )
    op.create_index("prompt_set_runs_session_created", "prompt_set_runs", ["session_id", "created_at"])
    op.create_table(
        "prompt_set_cells",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "run_id", sa.Text, sa.ForeignKey("prompt_set_runs.id", name="prompt_set_cells_run_fk"), nullable=False
        ),
        sa.Column("row_index", sa.Integer, nullable=False),
        sa.Column("model_id", sa.Text, nullable=False),
        sa.Column("history_id", sa.Integer),
        sa.Column("answer", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("latency_s", sa.Float),
        sa.Column("tokens_in", sa.Integer),
        sa.Column("tokens_out", sa.Integer),
        sa.Column("cost_usd", sa.Float),
        sa.Column("checks", sa.JSON, nullable=False),
        sa.Column("verdict", sa.Text, nullable=False),
        sa.Column("manual_verdict", sa.Text),
        sa.Column("comment", sa.Text),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.UniqueConstraint("run_id", "row_index", "model_id", name="prompt_set_cells_one_per_cell"),
    )


def downgrade() -> None:
    op.drop_table("prompt_set_cells")
    op.drop_index("prompt_set_runs_session_created", "prompt_set_runs")
    op.drop_table("prompt_set_runs")
