"""The node CA's CRL number: one row holding the last number issued, so each CRL's number is greater than every one
before it (RFC 5280 5.2.3), across replicas and restarts. CRLs signed before it carried none; numbering starts at 1.

Revision ID: registry_0011
Revises: registry_0010
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "registry_0011"
down_revision: str | None = "registry_0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crl_number",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crl_number")),
    )
    counter = sa.table("crl_number", sa.column("id", sa.Integer), sa.column("value", sa.BigInteger))
    op.bulk_insert(counter, [{"id": 1, "value": 0}])


def downgrade() -> None:
    op.drop_table("crl_number")
