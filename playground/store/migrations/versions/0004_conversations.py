"""Conversations: each run may be one turn of a multi-turn conversation (its id and turn number), and a vote
records how many turns its battle had.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("conversation_id", sa.Text))
    op.add_column("runs", sa.Column("turn", sa.Integer))
    op.create_index("runs_conversation", "runs", ["conversation_id"])
    op.add_column("votes", sa.Column("turns", sa.Integer))


def downgrade() -> None:
    op.drop_column("votes", "turns")
    op.drop_index("runs_conversation", "runs")
    op.drop_column("runs", "turn")
    op.drop_column("runs", "conversation_id")
