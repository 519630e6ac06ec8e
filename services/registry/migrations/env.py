"""Alembic environment for the registry service's database."""

from services.kit.migrations_env import run_migrations
from services.registry.store.models import metadata

run_migrations(metadata)
