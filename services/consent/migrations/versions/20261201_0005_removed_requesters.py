"""Requesters whose removal consent handled, and a new listing of the participant watch to fill them in.

Revision ID: consent_0005
Revises: consent_0004
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "consent_0005"
down_revision: str | None = "consent_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "removed_requesters",
        sa.Column("requester", sa.String(length=60), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("requester", name=op.f("pk_removed_requesters")),
    )
    # The watcher lists the registry again (its listing holds removed participants too): every removal handled before
    # this version is recorded, and an authorization a crash left live for a removed requester is revoked then.
    op.execute(sa.text("UPDATE registry_cursor SET revision = 0"))


def downgrade() -> None:
    op.drop_table("removed_requesters")
