"""Holds access-removing participant changes until every gateway replica on the acknowledged watch applied them.

The protocol of consent's watch (services/consent/README.md, "No stale window"), with the registered replicas and their
leases kept in the database (``WatchSessions``), since several registry processes serve the streams and any of them
may take the change. A replica is registered when its stream starts; it acknowledges revisions; an acknowledgement is
recorded (renewing the lease from that moment on the database's clock) before the stream confirms it to the replica,
which counts its own lease from when it *sent* that acknowledgement. A barrier for revision R waits until every
registered replica acknowledged >= R or was unregistered because its lease lapsed (recorded + lease + margin), by
which time the replica has stopped admitting callers from memory.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from services.registry.domain.ports import WatchSessions

log = structlog.get_logger("registry.watch_barrier")


@dataclass(frozen=True)
class WatchTiming:
    """Heartbeat and lease of the acknowledged participant watch. ``lease`` is what replicas are told; the registry
    waits ``lease + margin`` after a replica's last recorded acknowledgement before it stops waiting for it."""

    heartbeat: float = 0.5
    lease: float = 3.0
    margin: float = 0.5
    poll: float = 0.05  # how often a waiting barrier looks at the database for other processes' acknowledgements

    @property
    def server_lease(self) -> float:
        # The margin covers clock-rate differences between the replica's clock and the database's, and delays.
        return self.lease + self.margin

    @property
    def record_every(self) -> float:
        # Acknowledgements that move no revision are recorded (a database write) at most this often; the replica's
        # lease then counts from an older acknowledgement, a quarter of a lease at most.
        return self.lease / 4


class ReplicaSession:
    """One replica's stream, as the registry process serving it sees it."""

    def __init__(
        self,
        sessions: WatchSessions,
        timing: WatchTiming,
        replica: str,
        *,
        on_recorded: Callable[[], None] = lambda: None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions, self._timing, self.replica = sessions, timing, replica
        self._on_recorded, self._now = on_recorded, monotonic
        self.id = uuid.uuid4().hex
        self._lock = threading.Lock()
        self.sent_revision = 0
        self.lapsed = False
        # Set when an acknowledgement could not be recorded (the database failed): the stream must end, or the
        # replica would go on acknowledging into a session that no longer renews its lease, failing closed for good.
        self.broken = False
        self._last_ack_id = 0
        self._recorded_revision = -1
        self._recorded_at = float("-inf")
        self._confirmed = 0
        # The latest participant event's revision when the session registered. Barriers that began before then did
        # not wait for it, and each of their revisions is at most this one: so no acknowledgement is confirmed (no
        # lease granted) before the replica acknowledged this far, or a replica resuming from far behind could admit
        # a suspended platform.
        self.floor = sessions.register(self.id, replica, timing.server_lease)
        log.info("participant_watch_registered", replica=replica, session=self.id)

    @property
    def confirmed(self) -> int:
        """The ack id to confirm in the next message: the latest recorded one at or past the floor, else 0."""
        with self._lock:
            return self._confirmed

    def sent(self, revision: int) -> None:
        """Called before a message carrying ``revision`` goes out: the replica may acknowledge up to it."""
        with self._lock:
            self.sent_revision = max(self.sent_revision, revision)

    def ack(self, ack_id: int, revision: int) -> None:
        with self._lock:
            if self.lapsed:
                return
            if revision > self.sent_revision or ack_id <= self._last_ack_id:
                # Acknowledging what was never sent, or out of order, breaks the protocol: treat it as silence.
                log.warning("participant_watch_bad_ack", replica=self.replica, session=self.id)
                return
            self._last_ack_id = ack_id
            now = self._now()
            if revision <= self._recorded_revision and now - self._recorded_at < self._timing.record_every:
                return  # nothing new to a barrier, and the lease was renewed a moment ago
            # Recorded before it is confirmed: the registry's view of the lease then starts no earlier than the
            # replica's (which starts when it sent this acknowledgement).
            if not self._sessions.record_ack(self.id, revision, self._timing.server_lease):
                self.lapsed = True
                log.info("participant_watch_lease_lapsed", replica=self.replica, session=self.id)
                return
            self._recorded_revision, self._recorded_at = revision, now
            if revision >= self.floor:
                self._confirmed = ack_id
        self._on_recorded()


class EnforcementBarrier:
    """Waits until every registered replica acknowledged a revision or lapsed (see the module's docstring)."""

    def __init__(
        self,
        sessions: WatchSessions,
        timing: WatchTiming,
        *,
        wait: Callable[[threading.Condition, float], object] = lambda cond, timeout: cond.wait(timeout),
    ) -> None:
        self._sessions, self.timing = sessions, timing
        self._wait = wait
        self._cond = threading.Condition()

    def recorded(self) -> None:
        """An acknowledgement was recorded by this process: waiting barriers look again at once."""
        with self._cond:
            self._cond.notify_all()

    def open(self, replica: str) -> ReplicaSession:
        return ReplicaSession(self._sessions, self.timing, replica, on_recorded=self.recorded)

    def wait_enforced(self, revision: int) -> None:
        """Return once every replica registered now acknowledged ``revision`` or its lease lapsed. Bounded: a silent
        replica's lease lapses at most ``lease + margin`` after its last acknowledgement was recorded."""
        self._sessions.reap()
        waiting = {sid for sid, acked in self._sessions.acked().items() if acked < revision}
        while waiting:
            with self._cond:
                self._wait(self._cond, self.timing.poll)
            self._sessions.reap()
            current = self._sessions.acked()
            waiting = {sid for sid in waiting if current.get(sid, revision) < revision}
