"""Alembic environment for the consent service's database."""

from services.consent.store.models import metadata
from services.kit.migrations_env import run_migrations

run_migrations(metadata)
