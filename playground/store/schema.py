"""The store's tables as they stand at the newest migration: one definition the code and the migrations agree on.

Times are unix seconds (float) everywhere, so SQLite and PostgreSQL sort and filter them alike. A test compares
this metadata with the database the migrations build, on both engines.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

VOTE_CHOICES = ("a", "b", "tie", "both_bad")

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("ts", sa.Float, nullable=False),  # unix time the run finished
    sa.Column("page", sa.Text, nullable=False),
    sa.Column("model_id", sa.Text, nullable=False),
    sa.Column("model_name", sa.Text),
    sa.Column("openness", sa.Text),
    sa.Column("params", sa.Text),  # JSON
    sa.Column("input", sa.Text),  # NULL when inputs and outputs are not stored
    sa.Column("output", sa.Text),
    sa.Column("ttft_s", sa.Float),
    sa.Column("total_s", sa.Float),
    sa.Column("load_s", sa.Float),
    sa.Column("tokens_in", sa.Integer),
    sa.Column("tokens_out", sa.Integer),
    sa.Column("tokens_per_s", sa.Float),
    sa.Column("cost_usd", sa.Float),  # NULL: unpriced, never a silent $0
    sa.Column("api_cost_usd", sa.Float),
    sa.Column("hardware_cost_usd", sa.Float),
    sa.Column("cost_source", sa.Text),
    sa.Column("cold", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error", sa.Text),  # NULL when the run succeeded
    # added by migration 0002
    sa.Column("session_id", sa.Text),
    sa.Column("room", sa.Text),
    sa.Column("battle_id", sa.Text),
    sa.Column("queue_s", sa.Float),
    sa.Column("decode_s", sa.Float),
    sa.Column("hardware", sa.Text),  # where a local model ran, e.g. "AMD EPYC 7B13, 2 cores" (hardware.detect)
    sa.Column("endpoint", sa.Text),  # the base URL that answered, for served models
    sa.Column("error_code", sa.Text),  # playground.errors code of a failure
    sa.Column("partial", sa.Integer, nullable=False, server_default="0"),  # a failure that kept part of an answer
    # added by migration 0005 (playground.energy): NULL when nothing could say
    sa.Column("energy_wh", sa.Float),
    sa.Column("energy_min_wh", sa.Float),
    sa.Column("energy_max_wh", sa.Float),
    sa.Column("gwp_g", sa.Float),  # grams CO2-eq
    sa.Column("energy_source", sa.Text),  # "rapl", "nvml", "cpu-time" or "ecologits"
    sa.Column("energy_zone", sa.Text),  # the electricity mix (EcoLogits' zone code)
    # added by migration 0004
    sa.Column("conversation_id", sa.Text),  # the conversation a turn belongs to (conversations.Conversation.id)
    sa.Column("turn", sa.Integer),  # 1 = its first message; a regenerated answer repeats its turn
    sa.Index("runs_ts", "ts"),
    sa.Index("runs_room_ts", "room", "ts"),
    sa.Index("runs_battle", "battle_id"),
    sa.Index("runs_conversation", "conversation_id"),
)

settings = sa.Table(
    "settings",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),  # JSON
)

rooms = sa.Table(
    "rooms",
    metadata,
    sa.Column("code", sa.Text, primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("pin_hash", sa.Text, nullable=False),  # never the PIN itself
    sa.Column("exercise", sa.JSON),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("closed_at", sa.Float),
    sa.Column("budget_usd", sa.Float),  # added by 0003: the instructor's cap on the server's keys (NULL: none)
)

room_members = sa.Table(
    "room_members",
    metadata,
    sa.Column("room", sa.Text, sa.ForeignKey("rooms.code", name="room_members_room_fk"), primary_key=True),
    sa.Column("session_id", sa.Text, primary_key=True),
    sa.Column("display_name", sa.Text, nullable=False),
    sa.Column("joined_at", sa.Float, nullable=False),
)

battles = sa.Table(
    "battles",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("session_id", sa.Text, nullable=False),
    sa.Column("room", sa.Text),
    sa.Column("task", sa.Text, nullable=False),
    sa.Column("model_a", sa.Text, nullable=False),
    sa.Column("model_b", sa.Text, nullable=False),
    sa.Column("prompt", sa.Text),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("shown_at", sa.Float),  # when the two answers were revealed
    sa.Index("battles_room_created", "room", "created_at"),
)

votes = sa.Table(
    "votes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("battle_id", sa.Text, sa.ForeignKey("battles.id", name="votes_battle_fk"), nullable=False),
    sa.Column("session_id", sa.Text, nullable=False),
    sa.Column("room", sa.Text),
    sa.Column("choice", sa.Text, nullable=False),
    sa.Column("anonymous", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("turns", sa.Integer),  # added by migration 0004: how many turns the battle had when voted on
    sa.UniqueConstraint("battle_id", name="votes_one_per_battle"),  # a battle is never counted twice
    sa.CheckConstraint("choice IN ('a', 'b', 'tie', 'both_bad')", name="votes_choice"),
    sa.Index("votes_room_created", "room", "created_at"),
)

# ---------------------------------------------------------------- added by migration 0003 (trust)
RESERVED, SETTLED, REFUNDED = "reserved", "settled", "refunded"

spending = sa.Table(
    "spending",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("session_id", sa.Text),
    sa.Column("room", sa.Text),
    sa.Column("day", sa.Text, nullable=False),  # UTC date, YYYY-MM-DD: the server's daily cap
    sa.Column("model_id", sa.Text, nullable=False),
    sa.Column("reserved_usd", sa.Float, nullable=False),  # the worst case, held while the call runs
    sa.Column("spent_usd", sa.Float),  # the real cost once settled (NULL while reserved)
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("settled_at", sa.Float),
    sa.CheckConstraint("state IN ('reserved', 'settled', 'refunded')", name="spending_state"),
    sa.Index("spending_day", "day"),
    sa.Index("spending_session", "session_id"),
    sa.Index("spending_room", "room"),
)

sign_in_attempts = sa.Table(
    "sign_in_attempts",
    metadata,
    sa.Column("target", sa.Text, primary_key=True),  # "admin", or "room:<code>" for an instructor PIN
    sa.Column("failures", sa.Integer, nullable=False),  # wrong tries since the last right one
    sa.Column("last_failure_at", sa.Float, nullable=False),
    sa.Column("locked_until", sa.Float, nullable=False),
)


# added by migration 0006: prompt sets, one run of a set on several models and one cell per (row, model)
prompt_set_runs = sa.Table(
    "prompt_set_runs",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),  # unguessable: the page's ?run= link finds it again
    sa.Column("session_id", sa.Text),
    sa.Column("room", sa.Text),
    sa.Column("set_name", sa.Text, nullable=False),
    sa.Column("prompt_set", sa.JSON, nullable=False),  # the validated set, rows and checks
    sa.Column("models", sa.JSON, nullable=False),  # model ids, in column order
    sa.Column("params", sa.JSON, nullable=False),  # GenParams
    sa.Column("status", sa.Text, nullable=False),  # running, done, cancelled
    sa.Column("rerun_of", sa.Text),  # the earlier run this one repeats, for the diff
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("finished_at", sa.Float),
    sa.Index("prompt_set_runs_session_created", "session_id", "created_at"),
)

prompt_set_cells = sa.Table(
    "prompt_set_cells",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("run_id", sa.Text, sa.ForeignKey("prompt_set_runs.id", name="prompt_set_cells_run_fk"), nullable=False),
    sa.Column("row_index", sa.Integer, nullable=False),
    sa.Column("model_id", sa.Text, nullable=False),
    sa.Column("history_id", sa.Integer),  # the generation's row in runs (no foreign key: history may be pruned)
    sa.Column("answer", sa.Text),  # NULL when inputs and outputs are not stored
    sa.Column("error", sa.Text),
    sa.Column("latency_s", sa.Float),  # the model's own time: wait in line and load left out
    sa.Column("tokens_in", sa.Integer),
    sa.Column("tokens_out", sa.Integer),
    sa.Column("cost_usd", sa.Float),
    sa.Column("checks", sa.JSON, nullable=False),  # [{kind, label, passed (true/false/null), detail}]
    sa.Column("verdict", sa.Text, nullable=False),  # pass, fail, not judged, error
    sa.Column("manual_verdict", sa.Text),  # pass or fail, set by a person: it overrides the checks
    sa.Column("comment", sa.Text),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.UniqueConstraint("run_id", "row_index", "model_id", name="prompt_set_cells_one_per_cell"),
)

RUN_COLUMNS = tuple(c.name for c in runs.columns if c.name != "id")
