"""Platforms and institutions in memory, fed by the registry's WatchParticipantsAcked.

The replica side of the registry's no-stale-window protocol (as consent's, see services/registry/README.md): apply
each response, then acknowledge it, noting when the acknowledgement was sent; admit callers from memory only while
the lease of the latest acknowledgement the registry confirmed runs and no listing is in progress. Otherwise the
gateway fails closed: it serves nobody, since it cannot know who is admitted now. The registry holds an
access-removing change (a suspension, a re-issued certificate) until this replica acknowledged it or this lease
lapsed. A platform's current certificate serial comes with it, so a revoked certificate needs no list of its own.
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
from services.gateway.clients.errors import unavailable
from services.gateway.domain.identity import InstitutionView, PlatformView
from services.kit.client import Reconnects, queued_requests
from services.kit.metrics import WATCH_CONNECTED, WATCH_LAG

log = structlog.get_logger("gateway.participants")


def platform_view(p: pp.Platform) -> PlatformView:
    return PlatformView(
        name=p.name,
        access_allowed=p.access == pp.ACCESS_ALLOWED and p.status == pp.PLATFORM_STATUS_ADMITTED,
        proxy=p.proxy,
        is_aggregator=p.kind == pp.PLATFORM_KIND_AGGREGATOR,
        certificate_serial=_serial(p.certificate_serial),
    )


def _serial(text: str) -> int | None:
    """The hex serial as a number; None (no certificate is accepted) when empty or malformed, which fails closed."""
    try:
        return int(text, 16) if text else None
    except ValueError:
        return None


def institution_view(i: pp.Institution) -> InstitutionView:
    return InstitutionView(
        name=i.name,
        platform=i.platform,
        active_with_access=i.status == pp.INSTITUTION_STATUS_ACTIVE and i.access == pp.ACCESS_ALLOWED,
        arbiter=i.type in (pp.INSTITUTION_TYPE_ARBITRATION, pp.INSTITUTION_TYPE_COURT),
    )


class ParticipantCache:
    """The participant watch and its freshness."""

    def __init__(
        self,
        channel: grpc.Channel,
        *,
        replica_id: str = "gateway",
        lease_seconds: float = 6.0,
        reconnect_seconds: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stub = rs_grpc.RegistryServiceStub(channel)
        self.replica_id = replica_id
        # The registry's lease (sent on the stream) applies, shortened to this cap if it is longer.
        self._lease_cap = lease_seconds
        self._reconnects = Reconnects(reconnect_seconds)
        self._clock = clock
        self._lock = threading.Lock()
        self._platforms: dict[str, PlatformView] = {}
        self._institutions: dict[str, InstitutionView] = {}
        self._revision = 0
        self._listing = True
        self._lease_until = 0.0
        self._sent: dict[int, float] = {}  # ack id -> when it was sent, until the registry confirms it
        self._ack_id = 0
        self._acks: queue.Queue[rs.WatchParticipantsAckedRequest | None] = queue.Queue()
        self._stop = threading.Event()
        self._call: Any = None  # = None
        self._thread = threading.Thread(target=self._run_watch, name="gateway-participants", daemon=True)

        # What the "watch stream down/lagging" alerts read: evaluated at scrape time, never on the request path.
        self._last_message = time.monotonic()
        WATCH_CONNECTED.labels("gateway", "participants").set_function(lambda: 1.0 if self.live() else 0.0)
        WATCH_LAG.labels("gateway", "participants").set_function(lambda: time.monotonic() - self._last_message)

    def start(self) -> ParticipantCache:
        self._thread.start()
        return self

    def stopping(self) -> None:
        """Mark the cache as shutting down, so the streams' end is not reported as a failure."""
        self._stop.set()

    def close(self) -> None:
        self._stop.set()
        cancel = getattr(self._call, "cancel", None)
        if cancel is not None:
            cancel()
        self._thread.join(5)

    # ---- reads ----------------------------------------------------------------------------------------------------

    def live(self) -> bool:
        with self._lock:
            now = self._clock()
            return not self._listing and now < self._lease_until

    def admitting(
        self,
    ) -> tuple[Callable[[str], PlatformView | None], Callable[[str], InstitutionView | None]] | None:
        """The platform and institution look-ups of the view as it is live now; None when it is not. A new listing
        swaps in new maps (it never empties these), so the look-ups answer as the live view did: reading the current
        maps after a separate ``live()`` could find a listing just begun, still empty, and refuse an admitted caller."""
        with self._lock:
            if self._listing or self._clock() >= self._lease_until:
                return None
            return self._platforms.get, self._institutions.get

    def platform(self, name: str) -> PlatformView | None:
        """The platform as the live view has it, for the certificate check; UNAVAILABLE while no view is live. The
        current maps of a listing under way lack platforms not listed yet: any certificate of one (a revoked one
        too) would pass the check, and admission, reading the view live again by then, would let it in."""
        view = self.admitting()
        if view is None:
            raise unavailable("registry")
        return view[0](name)

    # ---- watch ----------------------------------------------------------------------------------------------------

    def _run_watch(self) -> None:
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
                    self._reconnects.delivered()
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
            self._stop.wait(self._reconnects.next_wait())

    def _apply(self, response: rs.WatchParticipantsAckedResponse) -> None:
        """Apply one response, then acknowledge it: a revision is acknowledged only once what it changed (a
        certificate it revoked with the rest) is in force here."""
        self._last_message = time.monotonic()
        with self._lock:
            for event in response.events:
                which = event.participant.WhichOneof("kind")
                tomb = event.type == rs.PARTICIPANT_EVENT_TYPE_TOMBSTONE
                if which == "platform":
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
            self._ack_id += 1
            self._sent[self._ack_id] = self._clock()  # noted before sending: the lease errs short
            self._acks.put(
                rs.WatchParticipantsAckedRequest(
                    ack=rs.ParticipantWatchAck(ack_id=self._ack_id, revision=response.revision)
                )
            )
