"""Outbox and notice ids are 64-bit: the ids and their sequences (32-bit on PostgreSQL).

Outbox events and correction notices are kept for good, a few per objection: PostgreSQL would have refused the
2**31st with "integer out of range", failing every change of an objection from then on. SQLite's INTEGER already
holds 64 bits, so only PostgreSQL's columns change (the models say BIGINT there alone). A SERIAL's sequence is
INTEGER as well and changing its column's type leaves it so (it would still stop at 2**31 - 1): each is made BIGINT
too. On PostgreSQL the change rewrites both tables and their indexes under an exclusive lock.

Revision ID: objection_0004
Revises: objection_0003
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "objection_0004"
down_revision: str | None = "objection_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SERIALS = [("objection_outbox", "id"), ("objection_notices", "id")]


def _sequence(table: str, column: str) -> str:
    name = op.get_bind().scalar(sa.text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table, "c": column})
    assert name is not None, f"{table}.{column} has no sequence"
    return str(name)  # already quoted where it needs to be


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, column in _SERIALS:
        op.alter_column(table, column, existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=False)
        op.execute(f"ALTER SEQUENCE {_sequence(table, column)} AS BIGINT")


def downgrade() -> None:
    # Fails on an id past 2**31 - 1, which a 32-bit column cannot hold.
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, column in reversed(_SERIALS):
        op.execute(f"ALTER SEQUENCE {_sequence(table, column)} AS INTEGER")
        op.alter_column(table, column, existing_type=sa.BigInteger(), type_=sa.Integer(), existing_nullable=False)
