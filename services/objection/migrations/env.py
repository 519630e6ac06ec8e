"""Alembic environment for the objection service's database."""

from services.kit.migrations_env import run_migrations
from services.objection.store.models import metadata

run_migrations(metadata)
