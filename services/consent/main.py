"""Composition root of the consent service: settings, storage, servicers and the server, wired once."""

from __future__ import annotations

from pathlib import Path

from opentelemetry import trace

from services.kit.config import ServiceSettings
from services.kit.db import ping
from services.kit.runtime import run_main, start_runtime
from services.kit.server import RunningServer, ServerSpec

NAME = "consent"
MIGRATIONS = Path(__file__).parent / "migrations"


class ConsentSettings(ServiceSettings):
    """Settings of the consent service (environment variables, unprefixed)."""


def build(
    settings: ServiceSettings,
    *,
    tracer_provider: trace.TracerProvider | None = None,
    configure_logs: bool = True,
) -> RunningServer:
    """Start the consent service on ``settings.listen_addr``; tests call this in-process."""
    runtime = start_runtime(NAME, settings, MIGRATIONS, tracer_provider=tracer_provider, configure_logs=configure_logs)
    spec = ServerSpec(
        name=NAME,
        listen_addr=settings.listen_addr,
        register=lambda server: [],
        readiness=[lambda: ping(runtime.engine)],
        on_stop=[runtime.engine.dispose],
        reflection=settings.reflection,
        max_workers=settings.max_workers,
        tracer_provider=runtime.tracer_provider,
    )
    return RunningServer(spec)


def main() -> None:
    run_main(NAME, ConsentSettings, MIGRATIONS, build)
