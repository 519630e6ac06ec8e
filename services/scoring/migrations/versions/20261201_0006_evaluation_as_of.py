"""Evaluations say the day they are current for, and enterprises due for the day's re-check are found by index.

``evaluations.as_of`` is the Asia/Shanghai day (ISO) an evaluation is current for, moved on by the daily re-check
while nothing in it changes; rows made before this revision keep NULL (read as their evaluated_at's day). The
re-check looks for active enterprises whose ``records_as_of`` is before today's start: indexed.

Revision ID: scoring_0006
Revises: scoring_0005
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "scoring_0006"
down_revision: str | None = "scoring_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("evaluations", sa.Column("as_of", sa.String(length=10), nullable=True))
    op.create_index(op.f("ix_enterprises_records_as_of"), "enterprises", ["records_as_of"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_enterprises_records_as_of"), table_name="enterprises")
    with op.batch_alter_table("evaluations") as batch:
        batch.drop_column("as_of")
