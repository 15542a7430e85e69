"""Energy and carbon of each run: the figure and its range in Wh, grams of CO2-equivalent, where the figure comes
from (measured by RAPL or NVML, estimated from CPU time, or EcoLogits) and the electricity mix zone.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def energy_columns() -> list[sa.Column]:
    return [
        sa.Column("energy_wh", sa.Float),
        sa.Column("energy_min_wh", sa.Float),
        sa.Column("energy_max_wh", sa.Float),
        sa.Column("gwp_g", sa.Float),
        sa.Column("energy_source", sa.Text),
        sa.Column("energy_zone", sa.Text),
    ]


def upgrade() -> None:
    for column in energy_columns():
        op.add_column("runs", column)


def downgrade() -> None:
    for column in energy_columns():
        op.drop_column("runs", column.name)
