"""The registry's log: the evidence log's tables (version 1) for participant status changes.

Revision ID: registry_0005
Revises: registry_0004
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from services.kit.evidence.migration import create_evidence_tables_v1, drop_evidence_tables_v1

revision: str = "registry_0005"
down_revision: str | None = "registry_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_evidence_tables_v1()


def downgrade() -> None:
    drop_evidence_tables_v1()
