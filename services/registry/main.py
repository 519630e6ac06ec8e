"""Composition root of the registry service: settings, storage, CA, servicers and the server, wired once."""

from __future__ import annotations

import sys
from pathlib import Path

from opentelemetry import trace
from pydantic import Field

from creditnode.registry.v1 import records_pb2_grpc as records_grpc
from creditnode.registry.v1 import registry_admin_service_pb2_grpc as admin_grpc
from creditnode.registry.v1 import registry_service_pb2_grpc as rs_grpc
from creditnode.registry.v1 import sharing_list_pb2_grpc as sl_grpc
from services.kit.config import ServiceSettings, SettingsError
from services.kit.db import ping, session_factories, utcnow
from services.kit.evidence.heads import load_or_create_node_key
from services.kit.evidence.log import EvidenceLog
from services.kit.evidence.servicer import register_evidence_log_service
from services.kit.listener import PlainListener
from services.kit.notify import CommitNotifier
from services.kit.runtime import run_main, start_runtime
from services.kit.server import RunningServer, ServerSpec
from services.kit.workdays import WorkCalendar
from services.registry import record_usecases
from services.registry.api.records import RecordIngestion, Records, SharingLists
from services.registry.api.servicers import Registry, RegistryAdmin
from services.registry.ca import FileCertificateAuthority
from services.registry.domain.sharing_list import DEFAULT_SHARING_LIST_PATH, load_sharing_list
from services.registry.store.models import evidence_models
from services.registry.store.repositories import SqlRegistryUnitOfWork
from services.registry.store.watch_sessions import SqlWatchSessions
from services.registry.watch_barrier import EnforcementBarrier, WatchTiming

NAME = "registry"
MIGRATIONS = Path(__file__).parent / "migrations"


class RegistrySettings(ServiceSettings):
    """Settings of the registry service (environment variables, unprefixed)."""

    # ca_dir holds the node CA's ca.key and ca.crt (a mounted Secret in production); empty means var_dir/registry-ca.
    ca_dir: Path | None = None
    # ca_autocreate creates a development CA when ca_dir is empty; never set it in production.
    ca_autocreate: bool = False
    # sharing_list_path is published as version 1 when the database has no sharing list yet.
    sharing_list_path: Path = DEFAULT_SHARING_LIST_PATH
    # evidence_key_file is the registry log's Ed25519 key (a Secret in production);
    # empty means var_dir/registry-evidence.key, created when missing.
    evidence_key_file: Path | None = None
    # ingest_listen_addr serves RecordIngestionService and health alone, for the data-sharing exchange's adapter
    # (which names departments in metadata and must reach nothing else of the registry); empty: none.
    ingest_listen_addr: str = Field(default="", pattern=r"^$|^[^\s:]+:\d{1,5}$")
    # ingest_max_workers bounds the department streams the ingestion port serves at once.
    ingest_max_workers: int = Field(default=16, ge=1, le=256)
    # participant_watch_heartbeat_seconds is how often an acknowledged participant watch (gateway replicas) gets a
    # message when nothing changes.
    participant_watch_heartbeat_seconds: float = Field(default=0.5, gt=0, le=10)
    # participant_watch_lease_seconds is how long a gateway replica may admit callers from memory after a confirmed
    # acknowledgement; an access-removing change waits at most this (plus the margin) for a silent replica.
    participant_watch_lease_seconds: float = Field(default=3.0, gt=0, le=60)
    # participant_watch_lease_margin_seconds is how much longer the registry waits for a silent replica than its lease.
    participant_watch_lease_margin_seconds: float = Field(default=0.5, gt=0, le=30)


def build(
    settings: RegistrySettings,
    *,
    tracer_provider: trace.TracerProvider | None = None,
    configure_logs: bool = True,
) -> RunningServer:
    """Start the registry on ``settings.listen_addr``; tests call this in-process."""
    if settings.participant_watch_heartbeat_seconds * 3 > settings.participant_watch_lease_seconds:
        error = SettingsError("invalid settings: PARTICIPANT_WATCH_LEASE_SECONDS must be at least three heartbeats")
        print(f"creditnode: {error}", file=sys.stderr)
        raise error
    runtime = start_runtime(NAME, settings, MIGRATIONS, tracer_provider=tracer_provider, configure_logs=configure_logs)
    writer_sessions, reader_sessions = session_factories(runtime.engine)
    barrier = EnforcementBarrier(
        SqlWatchSessions(writer_sessions, reader_sessions),
        WatchTiming(
            heartbeat=settings.participant_watch_heartbeat_seconds,
            lease=settings.participant_watch_lease_seconds,
            margin=settings.participant_watch_lease_margin_seconds,
        ),
    )
    ca = FileCertificateAuthority(
        settings.ca_dir or settings.var_dir / "registry-ca", autocreate=settings.ca_autocreate, now=utcnow()
    )
    notifier = CommitNotifier()
    key = load_or_create_node_key(settings.evidence_key_file or settings.var_dir / "registry-evidence.key")
    evidence = EvidenceLog(runtime.engine, evidence_models, origin="creditnode/registry", key=key).start()

    def writer() -> SqlRegistryUnitOfWork:
        return SqlRegistryUnitOfWork(writer_sessions, evidence)

    def reader() -> SqlRegistryUnitOfWork:
        return SqlRegistryUnitOfWork(reader_sessions)

    record_usecases.ensure_sharing_list(writer(), load_sharing_list(settings.sharing_list_path), utcnow())
    lists = record_usecases.CatalogueCache()
    with reader() as uow:  # loaded now, so the late-records counter is exported at 0 before any record arrives
        lists.get(uow)

    # Delivery deadlines move off rest days on the official calendar (Civil Code art. 203); a malformed calendar data
    # file stops start-up here, as it does the objection service's.
    ingestion = RecordIngestion(writer, lists, notifier, utcnow, WorkCalendar.load())
    readiness = [lambda: ping(runtime.engine), evidence.healthy]
    listeners = []
    if settings.ingest_listen_addr:
        listeners.append(
            PlainListener(
                f"{NAME}-ingest",
                settings.ingest_listen_addr,
                readiness,
                lambda server: records_grpc.add_RecordIngestionServiceServicer_to_server(ingestion, server),
                max_workers=settings.ingest_max_workers,
            )
        )

    def register(server: object) -> list[str]:
        rs_grpc.add_RegistryServiceServicer_to_server(Registry(writer, reader, ca, notifier, utcnow, barrier), server)
        admin_grpc.add_RegistryAdminServiceServicer_to_server(
            RegistryAdmin(writer, reader, ca, notifier, utcnow, barrier), server
        )
        records_grpc.add_RecordIngestionServiceServicer_to_server(ingestion, server)
        records_grpc.add_RecordServiceServicer_to_server(Records(writer, reader, lists, notifier, utcnow), server)
        sl_grpc.add_SharingListServiceServicer_to_server(SharingLists(writer, reader, lists, utcnow), server)
        return [
            *register_evidence_log_service(server, evidence),  # type: ignore[arg-type]
            "creditnode.registry.v1.RegistryService",
            "creditnode.registry.v1.RegistryAdminService",
            "creditnode.registry.v1.RecordIngestionService",
            "creditnode.registry.v1.RecordService",
            "creditnode.registry.v1.SharingListService",
        ]

    spec = ServerSpec(
        name=NAME,
        listen_addr=settings.listen_addr,
        register=register,
        readiness=readiness,
        on_stop=[evidence.close, runtime.engine.dispose],
        listeners=listeners,
        reflection=settings.reflection,
        max_workers=settings.max_workers,
        tracer_provider=runtime.tracer_provider,
    )
    return RunningServer(spec)


def main() -> None:
    run_main(NAME, RegistrySettings, MIGRATIONS, build)
