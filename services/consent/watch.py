"""The watch hub: streams authorization changes to gateway replicas and holds Pause/Revoke until they applied them.

Protocol (also on ``ConsentService.WatchAuthorizations`` in the proto): a replica is registered when its stream
starts; every change committed at revision R is pushed to every stream; replicas acknowledge revisions. A barrier
for R waits until each registered replica acknowledged >= R or its lease lapsed on this side (last acknowledgement
received + lease + margin). A replica counts its own lease from when it *sent* an acknowledgement that consent has
confirmed, so by the time consent stops waiting for it, it has stopped deciding from memory (it fails closed).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import structlog

from services.consent.domain.model import Authorization
from services.consent.domain.ports import ChangeFeed, Event
from services.kit.errors import Aborted

log = structlog.get_logger("consent.watch")

BATCH = 500
RING = 20_000


@dataclass(frozen=True)
class WatchTiming:
    """Heartbeat and lease. ``lease`` is what replicas are told; consent waits ``lease + margin`` for a silent one."""

    heartbeat: float = 0.2
    lease: float = 2.0
    margin: float = 0.5
    poll: float = 0.2

    @property
    def server_lease(self) -> float:
        # The margin covers clock-rate differences between the two monotonic clocks and scheduling delays.
        return self.lease + self.margin


@dataclass
class WatchMessage:
    """One message to a replica: events (None for listing items), the revision reached, and flags."""

    changes: list[tuple[Event | None, Authorization]]
    revision: int
    acknowledged: int
    snapshot_complete: bool = False
    reset: bool = False


@dataclass(eq=False)
class Session:
    """One replica's stream as the hub sees it."""

    id: int
    replica: str
    lease_deadline: float
    sent_revision: int = 0
    acked_revision: int = 0
    last_ack_id: int = 0
    disconnected: bool = False
    lapsed: bool = False
    started: float = field(default_factory=time.monotonic)
    # The hub's revision when the session opened. Barriers that began before then did not wait for this session,
    # and each of their revisions is at most this one: no acknowledgement is confirmed (no lease granted) before the
    # replica acknowledged this far, so a replica resuming from far behind cannot decide from memory that lacks a
    # revocation already returned to the enterprise.
    floor: int = 0


def _confirmed(session: Session) -> int:
    """The acknowledgement a message confirms: none until the replica caught up with the floor (see Session)."""
    return session.last_ack_id if session.acked_revision >= session.floor else 0


class WatchHub:
    """Fan-out of the change feed to replica sessions, and the enforcement barrier for Pause and Revoke."""

    def __init__(
        self,
        feed: ChangeFeed,
        timing: WatchTiming,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        on_change: Callable[[Authorization], None] = lambda _: None,
    ) -> None:
        self._feed = feed
        self._on_change = on_change
        self.timing = timing
        self._now = monotonic
        self._cond = threading.Condition()
        self._pull_lock = threading.Lock()
        self._ring: deque[tuple[Event, Authorization]] = deque(maxlen=RING)
        self._revision = feed.current_revision()
        self._sessions: set[Session] = set()
        self._ids = itertools.count(1)
        # Leases granted by a previous process are unknown: no barrier passes before they have surely lapsed.
        self._quiet_until = self._now() + timing.server_lease
        self._stop = threading.Event()
        self._poke = threading.Event()
        self._thread = threading.Thread(target=self._run, name="consent-watch-hub", daemon=True)

    def start(self) -> WatchHub:
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        self._poke.set()
        with self._cond:
            for s in self._sessions:
                s.disconnected = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(5)

    @property
    def revision(self) -> int:
        return self._revision

    def replicas(self) -> list[str]:
        with self._cond:
            return sorted(s.replica for s in self._sessions)

    # ---------------------------------------------------------------- the change feed

    def _run(self) -> None:
        while not self._stop.is_set():
            self._poke.wait(self.timing.poll)
            self._poke.clear()
            try:
                self._pull()
            except Exception:  # the database may be briefly away; the next round retries
                log.warning("watch_pull_failed", exc_info=True)
            self._reap()

    def _pull(self) -> None:
        """Load committed changes after our revision into the ring and wake the streams."""
        with self._pull_lock:
            while True:
                changes = self._feed.changes_after(self._revision, BATCH)
                if not changes:
                    return
                for _, auth in changes:
                    self._on_change(auth)
                with self._cond:
                    self._ring.extend(changes)
                    self._revision = changes[-1][0].revision
                    self._cond.notify_all()
                if len(changes) < BATCH:
                    return

    def _reap(self) -> None:
        now = self._now()
        with self._cond:
            for s in [s for s in self._sessions if now >= s.lease_deadline]:
                self._lapse(s)

    def _lapse(self, session: Session) -> None:
        """Stop waiting for a silent replica: by now it fails closed. Its stream is ended (it must start anew)."""
        session.lapsed = True
        self._sessions.discard(session)
        self._cond.notify_all()
        log.info("watch_lease_lapsed", replica=session.replica, session=session.id)

    # ---------------------------------------------------------------- EnforcementBarrier

    def committed(self, revision: int) -> None:
        if revision > self._revision:
            self._pull()

    def wait_enforced(self, revision: int) -> None:
        """Return once every registered replica acknowledged ``revision`` or its lease lapsed."""
        self.committed(revision)
        with self._cond:
            waiting = set(self._sessions)
            while True:
                now = self._now()
                for s in list(waiting):
                    if s.lapsed or s.acked_revision >= revision:
                        waiting.discard(s)
                    elif now >= s.lease_deadline:
                        self._lapse(s)
                        waiting.discard(s)
                if not waiting and now >= self._quiet_until:
                    return
                deadlines = [s.lease_deadline for s in waiting]
                if now < self._quiet_until:
                    deadlines.append(self._quiet_until)
                # Acknowledgements wake us early; otherwise wake when the next lease would lapse.
                self._cond.wait(max(0.001, min(deadlines) - now))

    # ---------------------------------------------------------------- sessions

    def open(self, replica: str) -> Session:
        """Register a replica: from now on every barrier waits for it (or for its lease to lapse)."""
        with self._cond:
            session = Session(
                next(self._ids), replica, lease_deadline=self._now() + self.timing.server_lease, floor=self._revision
            )
            self._sessions.add(session)
        log.info("watch_opened", replica=replica, session=session.id)
        return session

    def disconnect(self, session: Session) -> None:
        """The stream ended. The session stays registered until its lease lapses: the replica may still decide."""
        with self._cond:
            session.disconnected = True
            self._cond.notify_all()

    def ack(self, session: Session, ack_id: int, revision: int) -> None:
        with self._cond:
            if session.lapsed:
                return
            if revision > session.sent_revision or ack_id <= session.last_ack_id:
                # Acknowledging what was never sent, or out of order, breaks the protocol: treat as silent.
                log.warning("watch_bad_ack", replica=session.replica, session=session.id)
                return
            session.last_ack_id = ack_id
            session.acked_revision = max(session.acked_revision, revision)
            session.lease_deadline = self._now() + self.timing.server_lease
            self._cond.notify_all()

    def messages(self, session: Session, start_revision: int) -> Iterator[WatchMessage]:
        """What to send on a session's stream, until it disconnects or lapses."""
        if start_revision <= 0 or start_revision > self._revision:
            yield from self._listing(session)
        else:
            session.sent_revision = start_revision
        last_sent = 0.0
        while True:
            with self._cond:
                while True:
                    if session.lapsed:
                        raise Aborted(
                            "ERROR_REASON_WATCH_LEASE_LAPSED",
                            "no acknowledgement within the lease; start a new watch",
                        )
                    if session.disconnected:
                        return
                    if self._revision > session.sent_revision:
                        break
                    remaining = last_sent + self.timing.heartbeat - self._now()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
                changes = self._from_ring(session.sent_revision)
            if changes is None:
                changes = self._feed.changes_after(session.sent_revision, BATCH)
            revision = changes[-1][0].revision if changes else session.sent_revision
            message = WatchMessage(
                changes=[(e, a) for e, a in changes], revision=revision, acknowledged=_confirmed(session)
            )
            session.sent_revision = revision
            last_sent = self._now()
            yield message

    def _from_ring(self, after: int) -> list[tuple[Event, Authorization]] | None:
        """Changes after ``after`` from memory (at most a batch), or None when the ring no longer reaches back."""
        if after >= self._revision:
            return []
        newer: list[tuple[Event, Authorization]] = []
        for change in reversed(self._ring):  # streams are usually at the head: scan from the newest
            if change[0].revision <= after:
                newer.reverse()
                return newer[:BATCH]
            newer.append(change)
        return None

    def _listing(self, session: Session) -> Iterator[WatchMessage]:
        revision = self._feed.current_revision()
        live = self._feed.live_authorizations()
        session.sent_revision = revision
        batches = [live[i : i + BATCH] for i in range(0, len(live), BATCH)] or [[]]
        for i, batch in enumerate(batches):
            yield WatchMessage(
                changes=[(None, a) for a in batch],
                revision=revision,
                acknowledged=_confirmed(session),
                reset=i == 0,
                snapshot_complete=i == len(batches) - 1,
            )
