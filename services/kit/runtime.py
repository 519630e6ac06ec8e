"""Start-up shared by every composition root: logging, tracing, database engine and migrations."""

from __future__ import annotations

import contextlib
import faulthandler
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from opentelemetry import trace
from sqlalchemy import Engine

from services.kit.config import ServiceSettings, SettingsError, load_settings
from services.kit.db import is_migrated, make_engine, migrate
from services.kit.logging import configure_logging, flush_logs, log_uncaught_exceptions
from services.kit.metrics import serve_metrics
from services.kit.server import CallPool, RunningServer, serve_until_signalled
from services.kit.tracing import build_tracer_provider, install_propagator

S = TypeVar("S", bound=ServiceSettings)


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
        configure_logging(name, settings.log_level, background=True)
    install_propagator()
    provider = tracer_provider or build_tracer_provider(name, settings.otel_exporter_otlp_endpoint)
    engine = make_engine(
        settings.resolved_database_url(name),
        sqlite_synchronous=settings.sqlite_synchronous,
        tracer_provider=provider,
    )
    migrate(engine, migrations_dir, version_table=f"alembic_version_{name}")
    return Runtime(name=name, tracer_provider=provider, engine=engine)


def wait_migrated(name: str, settings: ServiceSettings, migrations_dir: Path, timeout: float = 600.0) -> None:
    """Block until the migration Job has brought the schema to this code's head; never migrate here."""
    configure_logging(name, settings.log_level)
    engine = make_engine(settings.resolved_database_url(name), sqlite_synchronous=settings.sqlite_synchronous)
    deadline = time.monotonic() + timeout
    try:
        while not _migrated(engine, migrations_dir, name):
            if time.monotonic() > deadline:
                raise SystemExit(f"{name}: schema not migrated to head within {timeout:.0f}s")
            time.sleep(2)
    finally:
        engine.dispose()


def _migrated(engine: Engine, migrations_dir: Path, name: str) -> bool:
    try:
        return is_migrated(engine, migrations_dir, f"alembic_version_{name}")
    except Exception:  # the database may not be reachable yet: keep waiting
        return False


def run_main(
    name: str,
    settings_cls: type[S],
    migrations_dir: Path,
    build: Callable[[S], RunningServer],
) -> None:
    """What every ``__main__`` does: load settings (or explain what is wrong), then either migrate only
    (``--migrate-only``, for the Kubernetes migration Job), wait for migrations (``--wait-migrated``), or check the
    settings only serving needs, build and serve until SIGTERM."""
    # An exception nothing catches is logged redacted, not printed as it is (a database error's text quotes values).
    log_uncaught_exceptions()
    serving = not {"--migrate-only", "--wait-migrated"} & set(sys.argv[1:])
    try:
        settings = load_settings(settings_cls)
        if serving:
            settings.check_serving()
    except SettingsError as exc:
        print(f"creditnode: {exc}", file=sys.stderr)
        raise
    if "--migrate-only" in sys.argv[1:]:
        runtime = start_runtime(name, settings, migrations_dir)
        runtime.engine.dispose()
        return
    if "--wait-migrated" in sys.argv[1:]:
        wait_migrated(name, settings, migrations_dir)
        return
    # SIGUSR1 writes every thread's stack to stderr (function names and lines, no values): how an operator, or a test
    # whose service does not stop, sees where a process is stuck.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    server = build(settings)
    serve_metrics(settings.metrics_port)
    serve_until_signalled(server, settings.shutdown_grace_seconds, settings.shutdown_drain_seconds)
    if CallPool.running_anywhere():
        # At exit the interpreter joins every thread-pool thread (concurrent.futures), so it would wait forever for
        # a handler that never returns. The stop hooks have run and the log says how many handlers were left.
        with contextlib.suppress(Exception):
            flush_logs()
        os._exit(1)
