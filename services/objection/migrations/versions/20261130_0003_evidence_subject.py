"""The evidence log's tables, version 2: each leaf's subject (the enterprise it is about), indexed and filled in.

Revision ID: objection_0003
Revises: objection_0002
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from services.kit.evidence.migration import downgrade_evidence_tables_v2_to_v1, upgrade_evidence_tables_v1_to_v2

revision: str = "objection_0003"
down_revision: str | None = "objection_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    upgrade_evidence_tables_v1_to_v2()


def downgrade() -> None:
    downgrade_evidence_tables_v2_to_v1()
