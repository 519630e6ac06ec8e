"""Evaluation disputes: one row per (enterprise, objection), set and ended by the objection service.

Revision ID: scoring_0003
Revises: scoring_0002
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "scoring_0003"
down_revision: str | None = "scoring_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evaluation_disputes",
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("objection", sa.String(length=220), nullable=False),
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("through_evaluation_id", sa.Integer(), nullable=True),
        sa.Column("statement", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("uscc", "objection", name=op.f("pk_evaluation_disputes")),
    )


def downgrade() -> None:
    op.drop_table("evaluation_disputes")
