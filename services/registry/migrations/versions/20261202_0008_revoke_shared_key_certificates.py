"""Revoke the live certificates of keys the old code certified for several platforms, so they go on the CRL.

registry_0007 retired such keys (none may be certified again) but left their certificates live: each still
authenticated at the gateway, so whoever held the key could still act as every platform it was certified for. Which
platform is the rightful holder cannot be told, so all of them are revoked; each platform gets a new certificate for a
new key through IssuePlatformCertificate. A new migration rather than a change to registry_0007, so that databases
already past it and new ones end the same.

Revision ID: registry_0008
Revises: registry_0007
Create Date: 2026-12-02
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from services.kit.db import UtcDateTime

revision: str = "registry_0008"
down_revision: str | None = "registry_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    certificates = sa.table(
        "certificates",
        sa.column("platform_id", sa.String()),
        sa.column("public_key_sha256", sa.String()),
        sa.column("revoked_at", UtcDateTime()),
    )
    shared = (
        sa.select(certificates.c.public_key_sha256)
        .group_by(certificates.c.public_key_sha256)
        .having(sa.func.count(sa.distinct(certificates.c.platform_id)) > 1)
    )
    op.get_bind().execute(
        certificates.update()
        .where(certificates.c.revoked_at.is_(None), certificates.c.public_key_sha256.in_(shared))
        .values(revoked_at=datetime.now(UTC))
    )


def downgrade() -> None:
    # Nothing to undo in the schema, and a revocation is never taken back: the certificates stay revoked.
    pass
