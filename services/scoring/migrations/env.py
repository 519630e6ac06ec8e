"""Alembic environment for the scoring service's database."""

from services.kit.migrations_env import run_migrations
from services.scoring.store.models import metadata

run_migrations(metadata)
