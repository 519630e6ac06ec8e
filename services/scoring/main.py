"""Composition root of the scoring service: settings, storage, registry and consent clients, consumers, server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from opentelemetry import trace
from pydantic import Field

from creditnode.scoring.v1 import scoring_service_pb2_grpc as pb_grpc
from services.kit.client import make_channel
from services.kit.config import ServiceSettings
from services.kit.db import ping, session_factories, utcnow
from services.kit.runtime import run_main, start_runtime
from services.kit.server import RunningServer, ServerSpec
from services.scoring import usecases
from services.scoring.api.servicer import ScoringServicer
from services.scoring.clients.consent import GrpcMonitoringConsent
from services.scoring.clients.registry import (
    Cursor,
    GrpcCatalogue,
    GrpcRecordSource,
    ParticipantWatcher,
    RecordChangeWatcher,
)
from services.scoring.data import model_text
from services.scoring.store.repositories import SqlScoringUnitOfWork

NAME = "scoring"
MIGRATIONS = Path(__file__).parent / "migrations"


class ScoringSettings(ServiceSettings):
    """Settings of the scoring service (environment variables, unprefixed)."""

    # registry_addr is host:port of the registry (participants, records and their watches).
    registry_addr: str = Field(pattern=r"^[^\s:]+:\d{1,5}$")
    # records_addr is host:port of the registry's RecordService; empty means registry_addr.
    records_addr: str = Field(default="", pattern=r"^([^\s:]+:\d{1,5})?$")
    # consent_addr is host:port of the consent service (POST_LOAN_MONITORING checks).
    consent_addr: str = Field(pattern=r"^[^\s:]+:\d{1,5}$")
    # watch_max_backoff_seconds caps the wait between reconnects of the registry watches.
    watch_max_backoff_seconds: float = Field(default=5.0, gt=0, le=300)


def _cursor(writer: object, reader: object, stream: str, reset: Callable[[], None] | None = None) -> Cursor:
    def load() -> int:
        with reader() as uow:  # type: ignore[operator]
            return int(uow.cursors.load(stream))

    def save(revision: int) -> None:
        with writer() as uow:  # type: ignore[operator]
            uow.cursors.save(stream, revision)
            uow.commit()

    return Cursor(load, save, reset)


def build(
    settings: ScoringSettings,
    *,
    tracer_provider: trace.TracerProvider | None = None,
    configure_logs: bool = True,
) -> RunningServer:
    """Start the scoring service on ``settings.listen_addr``; tests call this in-process."""
    runtime = start_runtime(NAME, settings, MIGRATIONS, tracer_provider=tracer_provider, configure_logs=configure_logs)
    writer_sessions, reader_sessions = session_factories(runtime.engine)

    def writer() -> SqlScoringUnitOfWork:
        return SqlScoringUnitOfWork(writer_sessions)

    def reader() -> SqlScoringUnitOfWork:
        return SqlScoringUnitOfWork(reader_sessions)

    provider = runtime.tracer_provider
    registry_channel = make_channel(settings.registry_addr, tracer_provider=provider)
    records_channel = (
        make_channel(settings.records_addr, tracer_provider=provider) if settings.records_addr else registry_channel
    )
    consent_channel = make_channel(settings.consent_addr, tracer_provider=provider)
    catalogue = GrpcCatalogue(registry_channel)
    sc = usecases.Scoring(
        writer=writer,
        reader=reader,
        records=GrpcRecordSource(records_channel),
        consent=GrpcMonitoringConsent(consent_channel),
        clock=utcnow,
        catalogue=catalogue,
        public_items=catalogue.public_items,
    )
    usecases.ensure_model(sc, model_text())
    backoff = {"max_backoff": settings.watch_max_backoff_seconds}
    participants = ParticipantWatcher(
        registry_channel,
        _cursor(writer, reader, usecases.PARTICIPANTS_STREAM),
        lambda uscc, platform, active: usecases.on_enterprise(sc, uscc, platform, active),
        lambda platform, region: usecases.on_platform(sc, platform, region),
        **backoff,
    ).start()
    records = RecordChangeWatcher(
        records_channel,
        # the registry's revisions may have gone back: forget what each enterprise was processed at, with the cursor
        _cursor(writer, reader, usecases.RECORDS_STREAM, lambda: usecases.restart_record_watch(sc)),
        lambda uscc, revision: usecases.on_record_change(sc, uscc, revision),
        **backoff,
    ).start()

    def register(server: object) -> list[str]:
        pb_grpc.add_ScoringServiceServicer_to_server(ScoringServicer(sc), server)
        return ["creditnode.scoring.v1.ScoringService"]

    def close() -> None:
        # Runs once the server has stopped taking calls. The consumers call the registry and consent and write to the
        # database: they are stopped and joined before their channels close (closing a channel under a call in
        # flight on another thread is what grpc can crash on) and before the engine goes.
        watchers = (records, participants)
        for watcher in watchers:
            watcher.close()
        for watcher in watchers:
            watcher.join()  # bounded, logged when a consumer does not stop: shutdown goes on regardless
        for channel in {registry_channel, records_channel, consent_channel}:
            channel.close()
        runtime.engine.dispose()

    spec = ServerSpec(
        name=NAME,
        listen_addr=settings.listen_addr,
        register=register,
        readiness=[
            lambda: ping(runtime.engine),
            participants.connected.is_set,
            # evaluations follow record changes: until the record watch runs, they may lag behind the registry
            records.connected.is_set,
        ],
        on_stop=[close],
        reflection=settings.reflection,
        max_workers=settings.max_workers,
        tracer_provider=provider,
    )
    return RunningServer(spec)


def main() -> None:
    run_main(NAME, ScoringSettings, MIGRATIONS, build)
