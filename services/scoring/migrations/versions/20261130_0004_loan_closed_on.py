"""Loans: the day a loan was closed, so a loan written off or settled leaves the credit balance from then on.

Loans closed before this revision keep no day (NULL) and are counted as before.

Revision ID: scoring_0004
Revises: scoring_0003
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "scoring_0004"
down_revision: str | None = "scoring_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("loans", sa.Column("closed_on", sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("loans") as batch:
        batch.drop_column("closed_on")
