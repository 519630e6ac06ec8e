"""Alembic environment for the gateway service's database."""

from services.gateway.store.models import metadata
from services.kit.migrations_env import run_migrations

run_migrations(metadata)
