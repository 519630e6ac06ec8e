"""Supervision findings' fingerprints name the platform too: (rule, platform, subject, day), recomputed for stored rows.

A day run again after the upgrade finds each stored finding under its new fingerprint (grown, not stored twice). Going
back, the first finding of each (rule, subject, day) takes the old fingerprint again; another platform's finding of
the same (one the old fingerprint could not hold) keeps its new one.

Revision ID: gateway_0006
Revises: gateway_0005
Create Date: 2026-12-02
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0006"
down_revision: str | None = "gateway_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ROWS = sa.text("SELECT finding_id, rule, platform, subject, day FROM supervision_findings ORDER BY finding_id")
_SET = sa.text("UPDATE supervision_findings SET fingerprint = :fingerprint WHERE finding_id = :finding_id")


def _digest(*parts: str) -> str:
    # As services.gateway.domain.supervision.Finding.fingerprint computes it (written out: this revision must not move).
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def upgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(_ROWS).all()
    if rows:
        conn.execute(
            _SET,
            [{"finding_id": r.finding_id, "fingerprint": _digest(r.rule, r.platform, r.subject, r.day)} for r in rows],
        )


def downgrade() -> None:
    conn = op.get_bind()
    first: dict[tuple[str, str, str], int] = {}
    for r in conn.execute(_ROWS).all():
        first.setdefault((r.rule, r.subject, r.day), r.finding_id)
    if first:
        conn.execute(
            _SET,
            [
                {"finding_id": i, "fingerprint": _digest(rule, subject, day)}
                for (rule, subject, day), i in first.items()
            ],
        )
