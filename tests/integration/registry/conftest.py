"""The registry's own database, migrated, for the store tests (SQLite, or PostgreSQL when configured)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from services.kit.db import make_engine, migrate
from services.registry.main import MIGRATIONS


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    migrate(engine, MIGRATIONS, "alembic_version_registry")
    yield engine
    engine.dispose()
