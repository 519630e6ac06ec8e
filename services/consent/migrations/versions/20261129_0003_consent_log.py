"""The consent log: the evidence log's tables (version 1) in the consent database.

Revision ID: consent_0003
Revises: consent_0002
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from services.kit.evidence.migration import create_evidence_tables_v1, drop_evidence_tables_v1

revision: str = "consent_0003"
down_revision: str | None = "consent_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_evidence_tables_v1()


def downgrade() -> None:
    drop_evidence_tables_v1()
