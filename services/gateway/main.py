"""Composition root of the gateway: settings, caches, the disclosure log, servicers and the server, wired once."""

from __future__ import annotations

import os
import socket
from datetime import timedelta
from pathlib import Path

import grpc
from opentelemetry import trace
from pydantic import Field

from creditnode.evidence.v1.evidence_log_service_pb2_grpc import add_EvidenceLogServiceServicer_to_server
from services.gateway.api.evidence import DoorEvidenceLogServicer
from services.gateway.api.identity import CertificateIdentity, DevHeaderIdentity, Identify
from services.gateway.api.servicer import GatewayServicer, register
from services.gateway.api.supervision import register_supervision
from services.gateway.clients.consent import ConsentCache, ConsentClient
from services.gateway.clients.consent_evidence import ConsentEvidence
from services.gateway.clients.downstream import ObjectionClient, ScoringClient
from services.gateway.clients.participants import ParticipantCache
from services.gateway.clients.record_cache import RecordCache
from services.gateway.clients.registry import RegistryReader, SharingListCache
from services.gateway.clients.supervision_registry import SupervisionRegistry
from services.gateway.domain.quota import QuotaLimits, Quotas
from services.gateway.domain.selfquery import MAX_SIGNATURE_WINDOW
from services.gateway.domain.supervision import Thresholds
from services.gateway.evidence_packages import EvidencePackages
from services.gateway.store.disclosures import EvidenceDisclosureLog, NullDisclosureLog
from services.gateway.store.findings import SqlFindings
from services.gateway.store.models import evidence_models
from services.gateway.store.nonces import SqlNonces
from services.gateway.supervision import Supervision
from services.gateway.usecases import DisclosureLog, Gateway
from services.kit.client import make_channel
from services.kit.config import ServiceSettings, SettingsError
from services.kit.db import ping, session_factories
from services.kit.evidence.heads import load_or_create_node_key
from services.kit.evidence.log import EvidenceLog
from services.kit.evidence.servicer import SERVICE_NAME as EVIDENCE_SERVICE_NAME
from services.kit.evidence.servicer import register_evidence_log_service
from services.kit.listener import PlainListener
from services.kit.runtime import run_main, start_runtime
from services.kit.server import ReadinessCheck, RunningServer, ServerSpec

NAME = "gateway"
MIGRATIONS = Path(__file__).parent / "migrations"
ORIGIN = "creditnode/gateway"
_ADDR = r"^[^\s:]+:\d{1,5}$"


class GatewaySettings(ServiceSettings):
    """Settings of the gateway service (environment variables, unprefixed)."""

    # registry_addr is host:port of the registry (participant watch, CRL, records, sharing list, enterprise keys).
    registry_addr: str = Field(pattern=_ADDR)
    # consent_addr is host:port of consent (authorization watch, use recording, relays).
    consent_addr: str = Field(pattern=_ADDR)
    # scoring_addr is host:port of scoring (evaluations, portraits, loans, alerts).
    scoring_addr: str = Field(pattern=_ADDR)
    # objection_addr is host:port of the objection service.
    objection_addr: str = Field(pattern=_ADDR)
    # gateway_insecure_dev serves plaintext and trusts metadata x-creditnode-platform: local development only.
    gateway_insecure_dev: bool = False
    # tls_cert_file and tls_key_file are the gateway's server certificate and key (PEM).
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    # tls_client_ca_file is the node CA bundle platform client certificates must chain to.
    tls_client_ca_file: Path | None = None
    # health_listen_addr serves plain gRPC health only (for the kubelet, which cannot speak mTLS); empty: none.
    health_listen_addr: str = Field(default="", pattern=r"^$|^[^\s:]+:\d{1,5}$")
    # internal_listen_addr serves plain gRPC health, the full EvidenceLogService (ListLeaves included) and the
    # SupervisionService for the node's internal services and operators (objection reads who received what,
    # supervisors run the rules); reachable only inside the cluster. Empty: none.
    internal_listen_addr: str = Field(default="", pattern=r"^$|^[^\s:]+:\d{1,5}$")
    # gateway_audit switches the disclosure log; false is only for the benchmark's on/off ratio.
    gateway_audit: bool = True
    # evidence_key_file is the Ed25519 key signing the disclosure log's tree heads; empty: var_dir/gateway-evidence.key.
    evidence_key_file: Path | None = None
    # evidence_writer_process commits the disclosure log from a child process (false: a thread of the gateway's own).
    evidence_writer_process: bool = True
    # replica_id names this replica to consent (defaults to host name and process id).
    replica_id: str = ""
    # participant_lease_seconds caps the lease the registry grants on the acknowledged participant watch (the view is
    # trusted this long at most after an acknowledgement the registry confirmed; the registry's lease applies when
    # shorter, as it is by default).
    participant_lease_seconds: float = Field(default=6.0, gt=0, le=120)
    # record_cache_lease_seconds is how long masked records are served from memory without a registry message
    # (the registry's record watch sends a heartbeat every 2 seconds); past it, every read goes to the registry.
    record_cache_lease_seconds: float = Field(default=5.0, gt=2, le=60)
    # sharing_list_refresh_seconds is how long the sharing list is cached.
    sharing_list_refresh_seconds: float = Field(default=60.0, gt=0, le=3600)
    # quota_requests_per_minute limits each platform and each institution (0: off).
    quota_requests_per_minute: int = Field(default=600, ge=0)
    # quota_enterprises_per_day limits distinct enterprises asked about per platform and institution per day (0: off).
    quota_enterprises_per_day: int = Field(default=5000, ge=0)
    # signature_window_seconds is the allowed distance of a self-query's signed_at from the node clock (nonces are kept
    # for the largest it may be).
    signature_window_seconds: int = Field(default=300, ge=10, le=int(MAX_SIGNATURE_WINDOW.total_seconds()))
    # max_request_bytes caps one request on the platforms' door (1 MiB holds ~20,000 scenario-fit outcomes).
    max_request_bytes: int = Field(default=1024 * 1024, ge=64 * 1024, le=8 * 1024 * 1024)
    # supervision_breadth_enterprises: an institution querying this many enterprises without authorization in a day
    # is flagged.
    supervision_breadth_enterprises: int = Field(default=20, ge=1)
    # supervision_burst_denials within supervision_burst_window_seconds to one platform are flagged.
    supervision_burst_denials: int = Field(default=50, ge=1)
    supervision_burst_window_seconds: int = Field(default=300, ge=1, le=86400)

    def check_serving(self) -> None:
        # Only serving needs the certificates: the migration Job and the wait-migrated init container go without the
        # private key.
        if not self.gateway_insecure_dev:
            for name in ("tls_cert_file", "tls_key_file", "tls_client_ca_file"):
                path = getattr(self, name)
                if path is None or not Path(path).is_file():
                    raise SettingsError(f"{name.upper()} must name a readable file (or set GATEWAY_INSECURE_DEV=true)")


def server_credentials(settings: GatewaySettings) -> grpc.ServerCredentials:
    assert settings.tls_cert_file is not None
    assert settings.tls_key_file is not None
    assert settings.tls_client_ca_file is not None
    return grpc.ssl_server_credentials(
        [(settings.tls_key_file.read_bytes(), settings.tls_cert_file.read_bytes())],
        root_certificates=settings.tls_client_ca_file.read_bytes(),
        require_client_auth=True,
    )


def _listeners(
    settings: GatewaySettings,
    checks: list[ReadinessCheck],
    evidence: EvidenceLog | None,
    supervision: Supervision | None,
) -> list[PlainListener]:
    """The plain ports: health for the kubelet; health, the full evidence log service (listing leaves included) and
    supervision for the node's own readers."""
    listeners = []
    if settings.health_listen_addr:
        listeners.append(PlainListener(f"{NAME}-health", settings.health_listen_addr, checks))
    if settings.internal_listen_addr:

        def internal(server: grpc.Server) -> None:
            if evidence is not None:
                register_evidence_log_service(server, evidence)
            if supervision is not None:
                register_supervision(server, supervision)

        listeners.append(PlainListener(f"{NAME}-internal", settings.internal_listen_addr, checks, internal))
    return listeners


def _registry_reader(channel: grpc.Channel, settings: GatewaySettings) -> tuple[RegistryReader, RecordCache]:
    """The registry reader, with masked records served from a watch-fed cache (started here)."""
    registry = RegistryReader(channel)
    cache = registry.cache = RecordCache(channel, registry.listing, lease_seconds=settings.record_cache_lease_seconds)
    return registry, cache.start()


def build(
    settings: GatewaySettings,
    *,
    tracer_provider: trace.TracerProvider | None = None,
    configure_logs: bool = True,
) -> RunningServer:
    """Start the gateway service on ``settings.listen_addr``; tests call this in-process."""
    runtime = start_runtime(NAME, settings, MIGRATIONS, tracer_provider=tracer_provider, configure_logs=configure_logs)
    registry_channel = make_channel(settings.registry_addr, tracer_provider=runtime.tracer_provider)
    consent_channel = make_channel(settings.consent_addr, tracer_provider=runtime.tracer_provider)
    scoring_channel = make_channel(settings.scoring_addr, tracer_provider=runtime.tracer_provider)
    objection_channel = make_channel(settings.objection_addr, tracer_provider=runtime.tracer_provider)
    replica = settings.replica_id or f"{socket.gethostname()}-{os.getpid()}"
    participants = ParticipantCache(
        registry_channel,
        replica_id=replica,
        lease_seconds=settings.participant_lease_seconds,
    ).start()
    consent_cache = ConsentCache(consent_channel, replica).start()
    evidence: EvidenceLog | None = None
    disclosure_log: DisclosureLog
    if settings.gateway_audit:
        key = load_or_create_node_key(settings.evidence_key_file or settings.var_dir / "gateway-evidence.key")
        # The writer gets a process of its own: beside the request threads it waited for the interpreter lock after
        # every statement.
        evidence = EvidenceLog(
            runtime.engine, evidence_models, origin=ORIGIN, key=key, separate_process=settings.evidence_writer_process
        ).start()
        disclosure_log = EvidenceDisclosureLog(evidence)
    else:
        disclosure_log = NullDisclosureLog()
    scoring = ScoringClient(scoring_channel)
    registry, record_cache = _registry_reader(registry_channel, settings)
    gateway = Gateway(
        participants=participants,
        consent_cache=consent_cache,
        consent=ConsentClient(consent_channel),
        registry=registry,
        sharing_list=SharingListCache(registry_channel, settings.sharing_list_refresh_seconds),
        disclosure_log=disclosure_log,
        scoring=scoring,
        objection=ObjectionClient(objection_channel),
        quotas=Quotas(QuotaLimits(settings.quota_requests_per_minute, settings.quota_enterprises_per_day)),
        nonces=SqlNonces(session_factories(runtime.engine)[0]),
    )
    gateway.signature_window = timedelta(seconds=settings.signature_window_seconds)
    identify: Identify = (
        DevHeaderIdentity() if settings.gateway_insecure_dev else CertificateIdentity(participants.platform)
    )
    packages = EvidencePackages(gateway, evidence, ConsentEvidence(consent_channel), scoring.check_loan)
    servicer = GatewayServicer(gateway, identify, packages)
    supervision = (
        None
        if evidence is None
        else Supervision(
            evidence,
            SqlFindings(*session_factories(runtime.engine)),
            SupervisionRegistry(registry_channel),
            Thresholds(
                breadth_enterprises=settings.supervision_breadth_enterprises,
                burst_denials=settings.supervision_burst_denials,
                burst_window=timedelta(seconds=settings.supervision_burst_window_seconds),
            ),
        )
    )
    # Consent's stream only until it was first live: without it the gateway refuses, request by request, only what
    # needs an authorization, and public data still flows; following it would take every replica out of its Service
    # on each consent restart.
    checks = [lambda: ping(runtime.engine), participants.live, consent_cache.has_been_live]
    if evidence is not None:
        checks.append(evidence.healthy)
    listeners = _listeners(settings, checks, evidence, supervision)

    def register_all(server: grpc.Server) -> list[str]:
        names = register(server, servicer)
        if evidence is not None:
            # In insecure dev mode the one listener is also the internal one (make run: objection reads leaves here).
            if settings.gateway_insecure_dev:
                names = [*names, *register_evidence_log_service(server, evidence)]
            else:  # the platforms' door: identified and admitted callers, their own receipts only (api/evidence.py)
                add_EvidenceLogServiceServicer_to_server(DoorEvidenceLogServicer(evidence, gateway, identify), server)
                names = [*names, EVIDENCE_SERVICE_NAME]
        if supervision is not None and settings.gateway_insecure_dev:
            names = [*names, *register_supervision(server, supervision)]
        return names

    def stop_all() -> None:
        # The listeners stopped with the server. Closing the channels first ends the blocked watch streams at once
        # (a cancel through the tracing interceptor cannot reach them), so the caches' threads exit within the
        # shutdown grace.
        watches = (participants, consent_cache, record_cache)
        for watch in watches:
            watch.stopping()
        for channel in (registry_channel, consent_channel, scoring_channel, objection_channel):
            channel.close()
        for watch in watches:
            watch.close()
        if evidence is not None:
            evidence.close()
        runtime.engine.dispose()

    spec = ServerSpec(
        name=NAME,
        listen_addr=settings.listen_addr,
        register=register_all,
        readiness=checks,
        on_stop=[stop_all],
        listeners=listeners,
        reflection=settings.reflection and settings.gateway_insecure_dev,
        max_workers=settings.max_workers,
        credentials=None if settings.gateway_insecure_dev else server_credentials(settings),
        max_receive_bytes=settings.max_request_bytes,
        tracer_provider=runtime.tracer_provider,
    )
    return RunningServer(spec)


def main() -> None:
    run_main(NAME, GatewaySettings, MIGRATIONS, build)
