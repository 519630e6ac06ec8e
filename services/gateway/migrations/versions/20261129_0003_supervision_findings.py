"""Supervision findings raised by the rules over the disclosure log.

Revision ID: gateway_0003
Revises: gateway_0002
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0003"
down_revision: str | None = "gateway_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "supervision_findings",
        sa.Column(
            "finding_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("fingerprint", sa.String(length=32), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("platform", sa.String(length=80), nullable=False),
        sa.Column("subject", sa.String(length=80), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.Column("leaves", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("finding_id", name=op.f("pk_supervision_findings")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_supervision_findings_fingerprint")),
    )
    op.create_index("ix_supervision_findings_platform", "supervision_findings", ["platform", "finding_id"])


def downgrade() -> None:
    op.drop_index("ix_supervision_findings_platform", table_name="supervision_findings")
    op.drop_table("supervision_findings")
