"""Start-up shared by every composition root: logging, tracing, database engine and migrations."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from opentelemetry import trace
from sqlalchemy import Engine

from services.kit.config import ServiceSettings, SettingsError, load_settings
from services.kit.db import make_engine, migrate
from services.kit.logging import configure_logging
from services.kit.server import RunningServer, serve_until_signalled
from services.kit.tracing import build_tracer_provider


@dataclass(frozen=True)
class Runtime:
    """What a service's composition root gets back from start-up."""

    name: str
    tracer_provider: trace.TracerProvider
    engine: Engine


def start_runtime(
    name: str,
    settings: ServiceSettings,
    migrations_dir: Path,
    *,
    tracer_provider: trace.TracerProvider | None = None,
    configure_logs: bool = True,
) -> Runtime:
    """Configure logs and traces, open the database and migrate it to head."""
    if configure_logs:
        configure_logging(name, settings.log_level)
    provider = tracer_provider or build_tracer_provider(name, settings.otel_exporter_otlp_endpoint)
    engine = make_engine(
        settings.resolved_database_url(name),
        sqlite_synchronous=settings.sqlite_synchronous,
        tracer_provider=provider,
    )
    migrate(engine, migrations_dir, version_table=f"alembic_version_{name}")
    return Runtime(name=name, tracer_provider=provider, engine=engine)


def run_main(settings_cls: type[ServiceSettings], build: Callable[[ServiceSettings], RunningServer]) -> None:
    """What every ``__main__`` does: load settings (or explain what is wrong), build, serve until SIGTERM."""
    try:
        settings = load_settings(settings_cls)
    except SettingsError as exc:
        print(f"creditnode: {exc}", file=sys.stderr)
        raise
    server = build(settings)
    serve_until_signalled(server, settings.shutdown_grace_seconds, settings.shutdown_drain_seconds)
