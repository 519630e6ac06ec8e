"""Evaluation and alert ids are 64-bit: the ids, their sequences and the disputes' references (32-bit on PostgreSQL).

An evaluation is added on every record change of an enterprise and for every active enterprise on each model
publish, and an alert id is a WatchAlerts cursor (int64 on the wire): PostgreSQL refused the 2**31st with
"integer out of range". SQLite's INTEGER already holds 64 bits, so only PostgreSQL's columns change (the models say
BIGINT there alone). A SERIAL's sequence is INTEGER as well and changing its column's type leaves it so (it would
still stop at 2**31 - 1): each is made BIGINT too. On PostgreSQL the change rewrites each table and its indexes
under an exclusive lock: evaluations takes the longest.

Revision ID: scoring_0005
Revises: scoring_0004
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "scoring_0005"
down_revision: str | None = "scoring_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, nullable)
_COLUMNS = [
    ("evaluations", "id", False),
    ("evaluation_disputes", "evaluation_id", False),
    ("evaluation_disputes", "through_evaluation_id", True),
    ("alerts", "id", False),
]
# The columns above whose values come from a sequence (SERIAL).
_SERIALS = [("evaluations", "id"), ("alerts", "id")]


def _sequence(table: str, column: str) -> str:
    name = op.get_bind().scalar(sa.text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table, "c": column})
    assert name is not None, f"{table}.{column} has no sequence"
    return str(name)  # already quoted where it needs to be


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, column, nullable in _COLUMNS:
        op.alter_column(table, column, existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=nullable)
    for table, column in _SERIALS:
        op.execute(f"ALTER SEQUENCE {_sequence(table, column)} AS BIGINT")


def downgrade() -> None:
    # Fails on an id past 2**31 - 1, which a 32-bit column cannot hold.
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, column in reversed(_SERIALS):
        op.execute(f"ALTER SEQUENCE {_sequence(table, column)} AS INTEGER")
    for table, column, nullable in reversed(_COLUMNS):
        op.alter_column(table, column, existing_type=sa.BigInteger(), type_=sa.Integer(), existing_nullable=nullable)
