"""Platforms and institutions in memory, fed by the registry's WatchParticipants; the CA's revocation list too.

Readiness: the listing is complete and a response (event or heartbeat) arrived within the lease. Otherwise the
gateway fails closed: it serves nobody, since it cannot know who is admitted now.
"""

from __future__ import annotations

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
        lease_seconds: float = 6.0,
        crl_refresh_seconds: float = 30.0,
        reconnect_seconds: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stub = rs_grpc.RegistryServiceStub(channel)
        self._lease = lease_seconds
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
        self._fresh_until = 0.0
        # Set when a response arrives after the lease lapsed: what we hold may be far behind, and the registry sends
        # a backlog in batches, so no batch but its "nothing new up to here" (a heartbeat) makes the view fresh again.
        self._catching_up = False
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
            return now < self._crl_fresh_until and not self._listing and now < self._fresh_until

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
            # A listing broken part-way lists again from 0: resuming from its revision would never complete it (the
            # registry sends no snapshot after a resume), leaving the gateway unready and the rest of it unlisted.
            if self._listing:
                self._revision = 0
            request = rs.WatchParticipantsRequest(
                start_revision=self._revision,
                kinds=[rs.PARTICIPANT_KIND_PLATFORM, rs.PARTICIPANT_KIND_INSTITUTION],
            )
            if self._revision == 0:
                with self._lock:
                    self._listing = True
                    self._platforms, self._institutions = {}, {}
            try:
                call = self._stub.WatchParticipants(request)
                self._call = call
                for response in call:
                    self._apply(response)
            except grpc.RpcError as exc:
                if exc.code() == grpc.StatusCode.FAILED_PRECONDITION:  # a revision the registry never issued
                    self._revision = 0
                if not self._stop.is_set():
                    log.warning("participant_watch_broken", code=exc.code().name)
            self._stop.wait(self._reconnect)

    def _renew_lease(self, now: float, *, caught_up: bool) -> None:
        """Under the lock. A response after the lease lapsed starts a catch-up: the view is trusted again only once
        the registry says it has nothing newer (its heartbeat) or a listing completes."""
        if not self._listing and now >= self._fresh_until:
            self._catching_up = True
        if caught_up:
            self._catching_up = False
        if not self._catching_up:
            self._fresh_until = now + self._lease

    def _apply(self, response: rs.WatchParticipantsResponse) -> None:
        self._last_message = time.monotonic()
        platform_changed = False
        with self._lock:
            now = self._clock()
            heartbeat = not response.events and not response.snapshot_complete and response.revision == self._revision
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
            self._renew_lease(now, caught_up=heartbeat or response.snapshot_complete)
        if platform_changed and not self._listing:
            # A platform event may be a suspension or a re-issued certificate: refresh the CRL at once.
            try:
                self.refresh_crl()
            except (grpc.RpcError, ValueError):  # the periodic refresh retries (and logs); this thread goes on
                # The list we hold may predate a revocation this very event announced (a re-issued certificate):
                # it no longer vouches for anything, so fail closed until a refresh succeeds.
                with self._lock:
                    self._crl_fresh_until = 0.0
                self._crl_due.set()
