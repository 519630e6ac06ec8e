"""Platforms and institutions in memory, fed by the registry's WatchParticipantsAcked; the CA's revocation list too.

The replica side of the registry's no-stale-window protocol (as consent's, see services/registry/README.md): apply
each response, then acknowledge it, noting when the acknowledgement was sent; admit callers from memory only while
the lease of the latest acknowledgement the registry confirmed runs, no listing is in progress and the CRL is fresh.
Otherwise the gateway fails closed: it serves nobody, since it cannot know who is admitted now. The registry holds an
access-removing change until this replica acknowledged it or this lease lapsed.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import grpc
import structlog

from creditnode.registry.v1 import participants_pb2 as pp
from creditnode.registry.v1 import registry_service_pb2 as rs
from creditnode.registry.v1 import registry_service_pb2_grpc as rs_grpc
from services.gateway.domain.identity import InstitutionView, PlatformView
from services.kit.client import queued_requests
from services.kit.metrics import WATCH_CONNECTED, WATCH_LAG

log = structlog.get_logger("gateway.participants")


def platform_view(p: pp.Platform) -> PlatformView:
    return PlatformView(
        name=p.name,
        access_allowed=p.access == pp.ACCESS_ALLOWED and p.status == pp.PLATFORM_STATUS_ADMITTED,
        proxy=p.proxy,
        is_aggregator=p.kind == pp.PLATFORM_KIND_AGGREGATOR,
        certificate_serial=p.certificate_serial,
    )


def institution_view(i: pp.Institution) -> InstitutionView:
    return InstitutionView(
        name=i.name,
        platform=i.platform,
        active_with_access=i.status == pp.INSTITUTION_STATUS_ACTIVE and i.access == pp.ACCESS_ALLOWED,
        arbiter=i.type in (pp.INSTITUTION_TYPE_ARBITRATION, pp.INSTITUTION_TYPE_COURT),
    )


class ParticipantCache:
    """The participant watch, the revoked-serial set and their freshness."""

    def __init__(
        self,
        channel: grpc.Channel,
        *,
        replica_id: str = "gateway",
        lease_seconds: float = 6.0,
        crl_refresh_seconds: float = 30.0,
        reconnect_seconds: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stub = rs_grpc.RegistryServiceStub(channel)
        self.replica_id = replica_id
        # The registry's lease (sent on the stream) applies, shortened to this cap if it is longer.
        self._lease_cap = lease_seconds
        self._crl_every = crl_refresh_seconds
        self._reconnect = reconnect_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._crl_refresh = threading.Lock()  # one CRL refresh at a time (see refresh_crl)
        self._platforms: dict[str, PlatformView] = {}
        self._institutions: dict[str, InstitutionView] = {}
        self._revoked: frozenset[int] = frozenset()
        # The revoked serials are trusted until then: a CRL that cannot be refreshed for three periods is too old to
        # vouch that a certificate was not revoked meanwhile, so the gateway fails closed.
        self._crl_fresh_until = 0.0
        self._crl_max_age = 3 * crl_refresh_seconds
        self._revision = 0
        self._listing = True
        self._lease_until = 0.0
        self._sent: dict[int, float] = {}  # ack id -> when it was sent, until the registry confirms it
        self._ack_id = 0
        self._acks: queue.Queue[rs.WatchParticipantsAckedRequest | None] = queue.Queue()
        self._crl_due = threading.Event()
        self._stop = threading.Event()
        self._call: Any = None  # = None
        self._threads = [
            threading.Thread(target=self._run_watch, name="gateway-participants", daemon=True),
            threading.Thread(target=self._run_crl, name="gateway-crl", daemon=True),
        ]

        # What the "watch stream down/lagging" alerts read: evaluated at scrape time, never on the request path.
        self._last_message = time.monotonic()
        WATCH_CONNECTED.labels("gateway", "participants").set_function(lambda: 1.0 if self.live() else 0.0)
        WATCH_LAG.labels("gateway", "participants").set_function(lambda: time.monotonic() - self._last_message)

    def start(self) -> ParticipantCache:
        for t in self._threads:
            t.start()
        return self

    def stopping(self) -> None:
        """Mark the cache as shutting down, so the streams' end is not reported as a failure."""
        self._stop.set()
        self._crl_due.set()

    def close(self) -> None:
        self._stop.set()
        self._crl_due.set()
        cancel = getattr(self._call, "cancel", None)
        if cancel is not None:
            cancel()
        for t in self._threads:
            t.join(5)

    # ---- reads ----------------------------------------------------------------------------------------------------

    def live(self) -> bool:
        with self._lock:
            now = self._clock()
            return now < self._crl_fresh_until and not self._listing and now < self._lease_until

    def platform(self, name: str) -> PlatformView | None:
        return self._platforms.get(name)

    def institution(self, name: str) -> InstitutionView | None:
        return self._institutions.get(name)

    def revoked(self, serial: int) -> bool:
        return serial in self._revoked

    # ---- CRL ------------------------------------------------------------------------------------------------------

    def refresh_crl(self) -> None:
        """Fetch the revoked serials; raises ``grpc.RpcError`` or ``ValueError`` (a malformed serial) on failure.

        One refresh at a time (the periodic one and those after platform events): otherwise a slower answer read
        before a revocation could land after a newer one and accept the revoked certificate again."""
        with self._crl_refresh:
            asked_at = self._clock()
            resp = self._stub.GetCertificateRevocationList(rs.GetCertificateRevocationListRequest(), timeout=5)
            revoked = frozenset(int(s, 16) for s in resp.revoked_serials)
            with self._lock:
                self._revoked = revoked
                self._crl_fresh_until = asked_at + self._crl_max_age

    def _run_crl(self) -> None:
        while not self._stop.is_set():
            self._crl_due.wait(self._crl_every)
            self._crl_due.clear()
            if self._stop.is_set():
                return
            try:
                self.refresh_crl()
            except (grpc.RpcError, ValueError) as exc:
                if not self._stop.is_set():
                    code = exc.code().name if isinstance(exc, grpc.RpcError) else "MALFORMED_SERIAL"
                    log.warning("crl_refresh_failed", code=code)
                self._crl_due.set()
                self._stop.wait(self._reconnect)

    # ---- watch ----------------------------------------------------------------------------------------------------

    def _run_watch(self) -> None:
        self._crl_due.set()
        while not self._stop.is_set():
            acks: queue.Queue[rs.WatchParticipantsAckedRequest | None] = queue.Queue()
            with self._lock:
                # A listing broken part-way lists again from 0: resuming from its revision would never complete it
                # (the registry sends no snapshot after a resume), leaving the gateway unready and the rest unlisted.
                if self._listing:
                    self._revision = 0
                if self._revision == 0:
                    self._listing = True
                    self._platforms, self._institutions = {}, {}
                self._acks, self._sent, self._ack_id = acks, {}, 0
                start = rs.WatchParticipantsAckedRequest(
                    start=rs.ParticipantWatchStart(
                        replica=self.replica_id,
                        start_revision=self._revision,
                        kinds=[rs.PARTICIPANT_KIND_PLATFORM, rs.PARTICIPANT_KIND_INSTITUTION],
                    )
                )
            try:
                call = self._stub.WatchParticipantsAcked(queued_requests(start, acks))
                self._call = call
                for response in call:
                    self._apply(response)
            except grpc.RpcError as exc:
                if exc.code() == grpc.StatusCode.FAILED_PRECONDITION:  # a revision the registry never issued
                    with self._lock:
                        self._revision = 0
                if not self._stop.is_set():
                    log.warning("participant_watch_broken", code=exc.code().name)
            except Exception:  # keep following: a dead thread would leave this replica failed closed for good
                log.error("participant_watch_failed", exc_info=True)
            finally:
                acks.put(None)
            # The lease is kept: it lapses on its own, and the registry waits for this replica until it has.
            self._stop.wait(self._reconnect)

    def _apply(self, response: rs.WatchParticipantsAckedResponse) -> None:
        """Apply one response, then acknowledge it: after the CRL refresh a platform event asks for, so a revision
        is acknowledged only once the certificates it revoked are refused here too."""
        self._last_message = time.monotonic()
        platform_changed = False
        with self._lock:
            for event in response.events:
                which = event.participant.WhichOneof("kind")
                tomb = event.type == rs.PARTICIPANT_EVENT_TYPE_TOMBSTONE
                if which == "platform":
                    platform_changed = True
                    p = event.participant.platform
                    if tomb:
                        self._platforms.pop(p.name, None)
                    else:
                        self._platforms[p.name] = platform_view(p)
                elif which == "institution":
                    i = event.participant.institution
                    if tomb:
                        self._institutions.pop(i.name, None)
                    else:
                        self._institutions[i.name] = institution_view(i)
            if response.snapshot_complete:
                self._listing = False
            self._revision = response.revision
            confirmed = self._sent.get(response.acknowledged)
            if confirmed is not None:
                # Counted from when that acknowledgement was sent (the registry counts from when it recorded it),
                # and never longer than this replica's own cap.
                lease = min(response.lease.ToTimedelta().total_seconds(), self._lease_cap)
                self._lease_until = max(self._lease_until, confirmed + lease)
                self._sent = {k: v for k, v in self._sent.items() if k > response.acknowledged}
            listing = self._listing
            acks = self._acks
        if platform_changed and not listing:
            # A platform event may be a suspension or a re-issued certificate: refresh the CRL at once.
            try:
                self.refresh_crl()
            except (grpc.RpcError, ValueError):  # the periodic refresh retries (and logs); this thread goes on
                # The list we hold may predate a revocation this very event announced (a re-issued certificate):
                # it no longer vouches for anything, so fail closed until a refresh succeeds.
                with self._lock:
                    self._crl_fresh_until = 0.0
                self._crl_due.set()
        with self._lock:
            self._ack_id += 1
            self._sent[self._ack_id] = self._clock()  # noted before sending: the lease errs short
            acks.put(
                rs.WatchParticipantsAckedRequest(
                    ack=rs.ParticipantWatchAck(ack_id=self._ack_id, revision=response.revision)
                )
            )
