"""Who ran what and where: session, room, battle, the latency parts, hardware, endpoint and error code on each run;
and the tables of classroom rooms, their members, blind-arena battles and votes.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def new_run_columns() -> list[sa.Column]:
    return [
        sa.Column("session_id", sa.Text),
        sa.Column("room", sa.Text),
        sa.Column("battle_id", sa.Text),
        sa.Column("queue_s", sa.Float),
        sa.Column("decode_s", sa.Float),
        sa.Column("hardware", sa.Text),
        sa.Column("endpoint", sa.Text),
        sa.Column("error_code", sa.Text),
        sa.Column("partial", sa.Integer, nullable=False, server_default="0"),
    ]


def upgrade() -> None:
    existing = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("runs")}
    for column in new_run_columns():
        if column.name not in existing:  # history.py had added queue_s by itself, late on
            op.add_column("runs", column)
    op.create_index("runs_room_ts", "runs", ["room", "ts"])
    op.create_index("runs_battle", "runs", ["battle_id"])
    op.create_table(
        "rooms",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("pin_hash", sa.Text, nullable=False),
        sa.Column("exercise", sa.JSON),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("closed_at", sa.Float),
    )
    op.create_table(
        "room_members",
        sa.Column("room", sa.Text, sa.ForeignKey("rooms.code", name="room_members_room_fk"), primary_key=True),
        sa.Column("session_id", sa.Text, primary_key=True),
        sa.Column("display_name", sa.Text, nullable=False),
        sa.Column("joined_at", sa.Float, nullable=False),
    )
    op.create_table(
        "battles",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("session_id", sa.Text, nullable=False),
        sa.Column("room", sa.Text),
        sa.Column("task", sa.Text, nullable=False),
        sa.Column("model_a", sa.Text, nullable=False),
        sa.Column("model_b", sa.Text, nullable=False),
        sa.Column("prompt", sa.Text),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("shown_at", sa.Float),
    )
    op.create_index("battles_room_created", "battles", ["room", "created_at"])
    op.create_table(
        "votes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("battle_id", sa.Text, sa.ForeignKey("battles.id", name="votes_battle_fk"), nullable=False),
        sa.Column("session_id", sa.Text, nullable=False),
        sa.Column("room", sa.Text),
        sa.Column("choice", sa.Text, nullable=False),
        sa.Column("anonymous", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.UniqueConstraint("battle_id", name="votes_one_per_battle"),
        sa.CheckConstraint("choice IN ('a', 'b', 'tie', 'both_bad')", name="votes_choice"),
    )
    op.create_index("votes_room_created", "votes", ["room", "created_at"])


def downgrade() -> None:
    op.drop_table("votes")
    op.drop_table("battles")
    op.drop_table("room_members")
    op.drop_table("rooms")
    op.drop_index("runs_battle", "runs")
    op.drop_index("runs_room_ts", "runs")
    for column in new_run_columns():
        op.drop_column("runs", column.name)
