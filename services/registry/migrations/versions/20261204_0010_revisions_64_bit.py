"""Revisions are 64-bit: the counter and every column holding a revision (they were 32-bit on PostgreSQL).

Each write transaction takes a revision (a record pushed on an open stream is one), the wire carries them as int64,
and PostgreSQL refused the 2**31st with "integer out of range", which would have stopped every registry write.
SQLite's INTEGER already holds 64 bits, so only PostgreSQL's columns change (the models say BIGINT there alone).
On PostgreSQL the change rewrites each table and its indexes under an exclusive lock: record_events takes the
longest.

Revision ID: registry_0010
Revises: registry_0009
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "registry_0010"
down_revision: str | None = "registry_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = [
    ("revision_counter", "value"),
    ("participant_events", "revision"),
    ("status_history", "revision"),
    ("record_events", "revision"),
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, column in _COLUMNS:
        op.alter_column(table, column, existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=False)


def downgrade() -> None:
    # Fails on a revision past 2**31 - 1, which a 32-bit column cannot hold.
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, column in reversed(_COLUMNS):
        op.alter_column(table, column, existing_type=sa.BigInteger(), type_=sa.Integer(), existing_nullable=False)
