"""The evidence log's tables, version 2: each leaf's subject (the enterprise it is about), indexed and filled in.

Revision ID: gateway_0004
Revises: gateway_0003
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from services.kit.evidence.migration import downgrade_evidence_tables_v2_to_v1, upgrade_evidence_tables_v1_to_v2

revision: str = "gateway_0004"
down_revision: str | None = "gateway_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    upgrade_evidence_tables_v1_to_v2()


def downgrade() -> None:
    downgrade_evidence_tables_v2_to_v1()
