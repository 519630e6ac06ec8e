"""Fixtures: a fresh database migrated the way a service migrates it (its own Alembic revision calling the helper)."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, MetaData

from services.kit.db import make_engine, migrate, service_metadata
from services.kit.evidence.schema import EvidenceModels, add_evidence_tables

ENV_PY = """
from services.kit.db import service_metadata
from services.kit.evidence.schema import add_evidence_tables
from services.kit.migrations_env import run_migrations

metadata = service_metadata()
add_evidence_tables(metadata)
run_migrations(metadata)
"""

REVISION_PY = '''
"""The evidence log's tables (version 1), as a service's own revision would add them."""

from services.kit.evidence.migration import create_evidence_tables_v1, drop_evidence_tables_v1

revision = "svc_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_evidence_tables_v1()


def downgrade() -> None:
    drop_evidence_tables_v1()
'''


REVISION_V2_PY = '''
"""The evidence log's tables, version 2, as a service's later revision adds it."""

from services.kit.evidence.migration import downgrade_evidence_tables_v2_to_v1, upgrade_evidence_tables_v1_to_v2

revision = "svc_0002"
down_revision = "svc_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_evidence_tables_v1_to_v2()


def downgrade() -> None:
    downgrade_evidence_tables_v2_to_v1()
'''


def write_migrations(root: Path) -> Path:
    """A minimal Alembic script directory like a service's ``migrations/``."""
    (root / "versions").mkdir(parents=True)
    (root / "env.py").write_text(textwrap.dedent(ENV_PY))
    (root / "versions" / "20261201_0001_evidence.py").write_text(textwrap.dedent(REVISION_PY))
    (root / "versions" / "20261201_0002_evidence_v2.py").write_text(textwrap.dedent(REVISION_V2_PY))
    return root


@dataclass
class EvidenceDb:
    """A migrated database holding an evidence log's tables."""

    url: str
    engine: Engine
    metadata: MetaData
    models: EvidenceModels


@pytest.fixture
def evidence_db(database_url: str, tmp_path: Path) -> Iterator[EvidenceDb]:
    engine = make_engine(database_url)
    migrate(engine, write_migrations(tmp_path / "migrations"), version_table="alembic_version_svc")
    metadata = service_metadata()
    yield EvidenceDb(database_url, engine, metadata, add_evidence_tables(metadata))
    engine.dispose()


class StepClock:
    """A clock the test moves by hand, so created_at values are known."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 29, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
