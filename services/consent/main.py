"""Composition root of the consent service: settings, storage, servicers and the server, wired once."""

from __future__ import annotations

import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NoReturn

import structlog
from opentelemetry import trace
from pydantic import Field

from services.consent.api.servicer import ConsentServicer, register
from services.consent.clients.files import CatalogueFileError, load_purposes
from services.consent.clients.registry import GrpcRegistry, RequesterRemovalWatcher
from services.consent.clients.sharing_list import RegistrySharingList
from services.consent.domain.catalogue import SharingList
from services.consent.domain.ports import Registry
from services.consent.domain.signing import MAX_SIGNATURE_WINDOW
from services.consent.store.check_cache import CandidateCache
from services.consent.store.models import evidence_models
from services.consent.store.repositories import (
    SqlChangeFeed,
    SqlRegistryCursor,
    cached_candidates,
    unit_of_work_factories,
)
from services.consent.usecases import Consent
from services.consent.watch import WatchHub, WatchTiming
from services.kit.client import make_channel
from services.kit.config import ServiceSettings, SettingsError
from services.kit.db import ping, session_factories
from services.kit.evidence.heads import load_or_create_node_key
from services.kit.evidence.log import EvidenceLog
from services.kit.evidence.servicer import register_evidence_log_service
from services.kit.runtime import run_main, start_runtime
from services.kit.server import RunningServer, ServerSpec

NAME = "consent"
CHECK_METHOD = "/creditnode.consent.v1.ConsentService/CheckAuthorization"
MIGRATIONS = Path(__file__).parent / "migrations"
log = structlog.get_logger("consent")


class ConsentSettings(ServiceSettings):
    """Settings of the consent service (environment variables, unprefixed)."""

    # registry_addr is host:port of the registry (enterprise keys, requesters, participant watch, sharing list).
    registry_addr: str = Field(pattern=r"^[^\s:]+:\d{1,5}$")
    # sharing_list_refresh_seconds is how long the registry's sharing list is used before it is read again; a list
    # older than five periods (the registry unreachable) classifies nothing and grants answer UNAVAILABLE.
    sharing_list_refresh_seconds: float = Field(default=60.0, gt=0, le=3600)
    # purposes_file is the purpose templates YAML.
    purposes_file: Path = Path(__file__).parent / "data" / "purposes.yaml"
    # signature_window_seconds is how far signed_at may be from the node's clock (nonces are kept for the largest).
    signature_window_seconds: int = Field(default=300, ge=10, le=int(MAX_SIGNATURE_WINDOW.total_seconds()))
    # watch_heartbeat_seconds is how often a watch stream gets a message when nothing changes.
    watch_heartbeat_seconds: float = Field(default=0.2, gt=0, le=10)
    # watch_lease_seconds is how long a gateway replica may decide from memory after a confirmed acknowledgement.
    watch_lease_seconds: float = Field(default=2.0, gt=0, le=60)
    # watch_lease_margin_seconds is how much longer consent waits for a silent replica than the replica's lease.
    watch_lease_margin_seconds: float = Field(default=0.5, gt=0, le=30)
    # expiry_sweep_seconds is how often expired authorizations are recorded as EXPIRED (checks never wait for it).
    expiry_sweep_seconds: float = Field(default=5.0, gt=0, le=3600)
    # evidence_key_file is the consent log's Ed25519 key (a Secret in production);
    # empty means var_dir/consent-evidence.key, created when missing.
    evidence_key_file: Path | None = None


class _Sweeper:
    """Records expiries and purges old nonces in the background."""

    def __init__(self, consent: Consent, interval: float) -> None:
        self._consent = consent
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="consent-sweeper", daemon=True)

    def start(self) -> _Sweeper:
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                while self._consent.expire_due() > 0 and not self._stop.is_set():
                    pass
            except Exception:  # a failed round is retried at the next tick
                log.warning("expiry_sweep_failed", exc_info=True)


def _fail(problem: str) -> NoReturn:
    error = SettingsError(f"invalid settings: {problem}")
    print(f"creditnode: {error}", file=sys.stderr)
    raise error


def build(
    settings: ConsentSettings,
    *,
    tracer_provider: trace.TracerProvider | None = None,
    configure_logs: bool = True,
    registry: Registry | None = None,
    sharing: SharingList | None = None,
) -> RunningServer:
    """Start the consent service on ``settings.listen_addr``; tests call this in-process, maybe with a fake registry
    and a fake sharing list."""
    if settings.watch_heartbeat_seconds * 3 > settings.watch_lease_seconds:
        _fail("WATCH_LEASE_SECONDS must be at least three WATCH_HEARTBEAT_SECONDS")
    try:
        purposes = load_purposes(settings.purposes_file)
    except CatalogueFileError as exc:
        _fail(f"PURPOSES_FILE: {exc}")
    runtime = start_runtime(NAME, settings, MIGRATIONS, tracer_provider=tracer_provider, configure_logs=configure_logs)
    writer_sessions, reader_sessions = session_factories(runtime.engine)
    key = load_or_create_node_key(settings.evidence_key_file or settings.var_dir / "consent-evidence.key")
    evidence = EvidenceLog(runtime.engine, evidence_models, origin="creditnode/consent", key=key).start()
    cache = CandidateCache()
    writer, reader = unit_of_work_factories(writer_sessions, reader_sessions, evidence, cache)
    hub = WatchHub(
        SqlChangeFeed(reader_sessions),
        WatchTiming(
            heartbeat=settings.watch_heartbeat_seconds,
            lease=settings.watch_lease_seconds,
            margin=settings.watch_lease_margin_seconds,
        ),
        # Changes committed by another consent process reach this one's Check cache through the feed.
        on_change=lambda auth: cache.drop((auth.requester, auth.enterprise, auth.purpose)),
    ).start()
    channel = make_channel(settings.registry_addr, tracer_provider=runtime.tracer_provider)
    consent = Consent(
        writer=writer,
        reader=reader,
        registry=registry or GrpcRegistry(channel),
        sharing=sharing or RegistrySharingList(channel, settings.sharing_list_refresh_seconds),
        purposes=purposes,
        barrier=hub,
        clock=lambda: datetime.now(UTC),
        window=timedelta(seconds=settings.signature_window_seconds),
        lookup=cached_candidates(reader, cache),
    )
    watcher = RequesterRemovalWatcher(channel, SqlRegistryCursor(writer_sessions), consent.revoke_for_requester)
    if registry is None:
        watcher.start()
    sweeper = _Sweeper(consent, settings.expiry_sweep_seconds).start()
    servicer = ConsentServicer(consent, hub)
    spec = ServerSpec(
        name=NAME,
        listen_addr=settings.listen_addr,
        register=lambda server: [*register(server, servicer), *register_evidence_log_service(server, evidence)],
        readiness=[lambda: ping(runtime.engine), evidence.healthy],
        on_stop=[watcher.close, sweeper.close, hub.close, evidence.close, runtime.engine.dispose],
        reflection=settings.reflection,
        max_workers=settings.max_workers,
        fast_lane=frozenset({CHECK_METHOD}),
        tracer_provider=runtime.tracer_provider,
    )
    return RunningServer(spec)


def main() -> None:
    run_main(NAME, ConsentSettings, MIGRATIONS, build)
