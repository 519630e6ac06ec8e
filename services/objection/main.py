"""Composition root of the objection service: settings, storage, adapters, servicers, background jobs, the server."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from opentelemetry import trace
from pydantic import Field

from creditnode.objection.v1 import objection_service_pb2_grpc as pb_grpc
from services.kit.client import make_channel
from services.kit.config import ServiceSettings
from services.kit.db import ping, session_factories, utcnow
from services.kit.errors import Unavailable
from services.kit.evidence.heads import load_or_create_node_key
from services.kit.evidence.log import EvidenceLog
from services.kit.evidence.servicer import register_evidence_log_service
from services.kit.metrics import CALENDAR_NEXT_YEAR, OBJECTION_EVENTS_REFUSED, OBJECTION_SLA, OBJECTIONS_OVERDUE
from services.kit.runtime import run_main, start_runtime
from services.kit.server import RunningServer, ServerSpec
from services.kit.workdays import WorkCalendar, local_date
from services.objection import usecases
from services.objection.api.servicer import ObjectionApi
from services.objection.background import Dispatcher, Handler, Periodic, alert, by_target, note, parked
from services.objection.clients.disclosures import GrpcDisclosureLog
from services.objection.clients.registry import GrpcRecords, GrpcSharingList, RegistryBreaches, RegistryDisputes
from services.objection.clients.scoring import ScoringDisputes, ScoringEvaluationLookup
from services.objection.domain import ObjectionPolicy, Recipient
from services.objection.domain.objection import ObjectionFilter
from services.objection.store.models import evidence_models
from services.objection.store.repositories import SqlObjectionUnitOfWork

NAME = "objection"
MIGRATIONS = Path(__file__).parent / "migrations"


class ObjectionSettings(ServiceSettings):
    """Settings of the objection service (environment variables, unprefixed)."""

    # registry_addr is the registry (RecordService, SharingListService), host:port.
    registry_addr: str = Field(pattern=r"^[^\s:]+:\d{1,5}$")
    # scoring_addr is scoring (evaluation lookups, evaluation dispute flags, re-evaluation), host:port.
    scoring_addr: str = Field(pattern=r"^[^\s:]+:\d{1,5}$")
    # gateway_addr is where the gateway serves its evidence log (disclosures); empty: disclosure reads fail UNAVAILABLE.
    gateway_addr: str = Field(default="", pattern=r"^([^\s:]+:\d{1,5})?$")
    # handling_days is clock 2 in calendar days (R6: 20).
    handling_days: int = Field(default=20, ge=1, le=365)
    # max_extension_days caps all extensions of one objection together.
    max_extension_days: int = Field(default=20, ge=0, le=365)
    # sweep_interval_seconds is how often overdue checks, clock-1 reassessment and re-routing run.
    sweep_interval_seconds: float = Field(default=60.0, gt=0, le=86400)
    # dispatch_interval_seconds is how often the outbox is delivered.
    dispatch_interval_seconds: float = Field(default=1.0, gt=0, le=3600)
    # sharing_list_ttl_seconds is how long the sharing list is cached for routing.
    sharing_list_ttl_seconds: float = Field(default=60.0, ge=0, le=86400)
    # evidence_key_file is the objection evidence log's Ed25519 key (a Secret in production);
    # empty means var_dir/objection-evidence.key, created when missing.
    evidence_key_file: Path | None = None


class _DisclosuresNotConfigured:
    """Stands in until GATEWAY_ADDR is set: says so instead of guessing who received what."""

    def _fail(self) -> Unavailable:
        return Unavailable(
            "ERROR_REASON_DEPENDENCY_UNAVAILABLE", "the disclosure log is not configured", {"setting": "GATEWAY_ADDR"}
        )

    def has_received(self, recipient: Recipient, enterprise: str, before: Any) -> bool:
        raise self._fail()

    def recipients(self, enterprise: str, item: str, until: Any, record_id: str | None = None) -> list[Recipient]:
        raise self._fail()


def _sweep_and_measure(writer: Any, reader: Any, lookups: Any, calendar: WorkCalendar) -> None:
    """One sweep, then the figures the alert rules watch: refused outbox events, overdue objections and next year's
    calendar."""
    now = utcnow()

    # Before the sweep, so a sweep that fails cannot hide refused events or a missing calendar; and each on its own:
    # the calendar needs no database, so its gauge is set while the database is down (from start-up, too).
    def calendar_figure() -> None:
        CALENDAR_NEXT_YEAR.labels(NAME).set(1 if calendar.alert_ready(local_date(now)) else 0)

    def refused_figure() -> None:
        OBJECTION_EVENTS_REFUSED.labels(NAME).set(usecases.refused_events(reader))

    failed: Exception | None = None
    for figure in (calendar_figure, refused_figure):
        try:
            figure()
        except Exception as exc:  # raised below, once the sweep has had its go
            failed = failed or exc
    usecases.sweep(writer, reader, lookups, calendar, now)
    sla = usecases.list_objections(reader, ObjectionFilter(), None, 1, now).figures
    OBJECTIONS_OVERDUE.labels(NAME).set(sla.overdue)
    for measure, value in {
        "open": sla.open,
        "overdue": sla.overdue,
        "forwarding_unknown": sla.forwarding_unknown,
        "forwarded_on_time": sla.forwarded_on_time.part,
        "forwarded_decided": sla.forwarded_on_time.whole,
        "handled_on_time": sla.handled_on_time.part,
        "handled_decided": sla.handled_on_time.whole,
    }.items():
        OBJECTION_SLA.labels(measure).set(value)
    if failed is not None:
        raise failed


def build(
    settings: ObjectionSettings,
    *,
    tracer_provider: trace.TracerProvider | None = None,
    configure_logs: bool = True,
) -> RunningServer:
    """Start the objection service on ``settings.listen_addr``; tests call this in-process."""
    runtime = start_runtime(NAME, settings, MIGRATIONS, tracer_provider=tracer_provider, configure_logs=configure_logs)
    writer_sessions, reader_sessions = session_factories(runtime.engine)
    key = load_or_create_node_key(settings.evidence_key_file or settings.var_dir / "objection-evidence.key")
    evidence = EvidenceLog(runtime.engine, evidence_models, origin="creditnode/objection", key=key).start()
    registry = make_channel(settings.registry_addr, tracer_provider=runtime.tracer_provider)
    scoring = make_channel(settings.scoring_addr, tracer_provider=runtime.tracer_provider)
    calendar = WorkCalendar.load()
    disclosures: Any = (
        GrpcDisclosureLog(make_channel(settings.gateway_addr, tracer_provider=runtime.tracer_provider))
        if settings.gateway_addr
        else _DisclosuresNotConfigured()
    )
    lookups = usecases.Lookups(
        records=GrpcRecords(registry),
        evaluations=ScoringEvaluationLookup(scoring),
        disclosures=disclosures,
        departments=GrpcSharingList(registry, ttl=settings.sharing_list_ttl_seconds),
        calendar=calendar,
        policy=ObjectionPolicy(handling_days=settings.handling_days, max_extension_days=settings.max_extension_days),
    )

    def writer() -> SqlObjectionUnitOfWork:
        return SqlObjectionUnitOfWork(writer_sessions, evidence)

    def reader() -> SqlObjectionUnitOfWork:
        return SqlObjectionUnitOfWork(reader_sessions)

    disputes = RegistryDisputes(registry)
    evaluation_disputes = ScoringDisputes(scoring)
    # Records' effects go to the registry, evaluations' to scoring.
    handlers: Mapping[str, Handler] = {
        "DisputeFlagRaised": by_target(disputes.flag_raised, evaluation_disputes.flag_raised),
        "DisputeFlagCleared": by_target(disputes.flag_cleared, evaluation_disputes.flag_cleared),
        "TargetMarkedUnverifiable": by_target(disputes.marked_unverifiable, evaluation_disputes.marked_unverifiable),
        "StatementAttached": by_target(disputes.statement_attached, evaluation_disputes.statement_attached),
        "ReinsertionGuardRequested": parked,
        "ForwardingBreached": RegistryBreaches(registry).forwarding_breached,
        "RecordCorrected": note,
        "ReevaluationRequested": evaluation_disputes.reevaluation_requested,
        "DisputeRouted": note,
        "ObjectionResolved": note,
        "ForwardTimelinessUnknown": alert,
        "RoutingFailed": alert,
        "HandlingOverdue": alert,
    }
    dispatcher = Dispatcher(writer, handlers, utcnow)
    jobs = [
        Periodic("dispatch", dispatcher.run_once, settings.dispatch_interval_seconds),
        Periodic(
            "sweep", lambda: _sweep_and_measure(writer, reader, lookups, calendar), settings.sweep_interval_seconds
        ),
    ]

    def missing_years(today: date) -> tuple[int, ...]:
        return calendar.missing_years(today, horizon_days=45)

    def register(server: Any) -> list[str]:
        pb_grpc.add_ObjectionServiceServicer_to_server(
            ObjectionApi(writer, reader, lookups, utcnow, missing_years), server
        )
        return ["creditnode.objection.v1.ObjectionService", *register_evidence_log_service(server, evidence)]

    def stop_jobs() -> None:
        for job in jobs:
            job.stop()
        registry.close()
        scoring.close()

    spec = ServerSpec(
        name=NAME,
        listen_addr=settings.listen_addr,
        register=register,
        readiness=[lambda: ping(runtime.engine), evidence.healthy],
        on_stop=[stop_jobs, evidence.close, runtime.engine.dispose],
        reflection=settings.reflection,
        max_workers=settings.max_workers,
        tracer_provider=runtime.tracer_provider,
    )
    server = RunningServer(spec)
    for job in jobs:
        job.start()
    return server


def main() -> None:
    run_main(NAME, ObjectionSettings, MIGRATIONS, build)
