"""Gateway replicas registered on the acknowledged participant watch, with their leases (see api/watch.py).

Revision ID: registry_0009
Revises: registry_0008
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "registry_0009"
down_revision: str | None = "registry_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "participant_watch_sessions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("replica", sa.String(length=100), nullable=False),
        sa.Column("acked_revision", sa.BigInteger(), nullable=False),
        sa.Column("lease_until_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participant_watch_sessions")),
    )
    with op.batch_alter_table("participant_watch_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_participant_watch_sessions_lease_until_us"), ["lease_until_us"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("participant_watch_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_participant_watch_sessions_lease_until_us"))
    op.drop_table("participant_watch_sessions")
