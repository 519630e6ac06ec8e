"""Composition root of the scoring service: settings, storage, registry and consent clients, consumers, server."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import structlog
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

log = structlog.get_logger("scoring.main")


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
    # recheck_interval_seconds is the pause of the day's re-check once a round finds no more to do (rounds that find
    # a full batch follow each other at once).
    recheck_interval_seconds: float = Field(default=60.0, gt=0, le=3600)
    # recheck_batch is how many enterprises one round of the day's re-check evaluates at most.
    recheck_batch: int = Field(default=usecases.RECHECK_BATCH, ge=1, le=10000)


class _Rechecker:
    """Runs the day's re-check (:func:`usecases.sweep_stale`) on a daemon thread: bounded rounds back to back while
    each finds a full batch, then a pause. Its only state is in the store: a restart resumes where it was."""

    def __init__(self, sc: usecases.Scoring, interval: float, batch: int) -> None:
        self._sc, self._interval, self._batch = sc, interval, batch
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scoring-recheck", daemon=True)

    def start(self) -> _Rechecker:
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()

    def join(self, timeout: float = 5.0) -> None:
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("recheck_not_stopped", timeout_seconds=timeout)

    def _run(self) -> None:
        after = ""
        while not self._stop.is_set():
            full = False
            try:
                done = usecases.sweep_stale(self._sc, after, self._batch)
                after, full = done.after, done.examined == self._batch
            except Exception as exc:  # the store unreachable: the next round tries again
                log.warning("recheck_round_failed", error_type=type(exc).__name__)
            if not full:
                self._stop.wait(self._interval)


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
    clock: Callable[[], datetime] = utcnow,
) -> RunningServer:
    """Start the scoring service on ``settings.listen_addr``; tests call this in-process (``clock``: to move the
    evaluation day)."""
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
        clock=clock,
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
    # Indicators read the evaluation day: evaluations made on an earlier day are evaluated again (see usecases).
    rechecker = _Rechecker(sc, settings.recheck_interval_seconds, settings.recheck_batch).start()

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
        rechecker.close()
        for watcher in watchers:
            watcher.join()  # bounded, logged when a consumer does not stop: shutdown goes on regardless
        rechecker.join()  # it asks consent about alerts and writes: before the channels and the engine go
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
