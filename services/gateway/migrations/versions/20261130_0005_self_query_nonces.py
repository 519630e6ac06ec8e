"""Self-query nonces in the database, so a signed self-query replayed to another gateway replica is refused too.

Revision ID: gateway_0005
Revises: gateway_0004
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0005"
down_revision: str | None = "gateway_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "self_query_nonces",
        sa.Column("enterprise", sa.String(length=40), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("enterprise", "nonce", name=op.f("pk_self_query_nonces")),
    )
    op.create_index("ix_self_query_nonces_expires_at", "self_query_nonces", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_self_query_nonces_expires_at", table_name="self_query_nonces")
    op.drop_table("self_query_nonces")
