"""Certificates keep why they were revoked, so each CRL entry carries RFC 5280 5.3.1's reason code. Revocations made
before have none (their entries carry no reason code, as RFC 5280 asks when the reason is unknown).

Revision ID: registry_0012
Revises: registry_0011
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "registry_0012"
down_revision: str | None = "registry_0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revocation_reason", sa.String(length=30), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_column("revocation_reason")
