"""Platform compliance breaches (e.g. objections forwarded late), append-only.

Revision ID: registry_0004
Revises: registry_0003
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "registry_0004"
down_revision: str | None = "registry_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "platform_breaches",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("platform_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("reference", sa.String(length=120), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.platform_id"], name=op.f("fk_platform_breaches_platform_id_platforms")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_platform_breaches")),
        sa.UniqueConstraint("kind", "reference", name=op.f("uq_platform_breaches_kind_reference")),
    )
    with op.batch_alter_table("platform_breaches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_platform_breaches_platform_id"), ["platform_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("platform_breaches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_platform_breaches_platform_id"))
    op.drop_table("platform_breaches")
