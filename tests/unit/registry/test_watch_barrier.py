"""The participant watch barrier: an access-removing change waits for every registered replica's acknowledgement or
for its lease to lapse; a lapsed replica gets no further lease; replicas registering meanwhile need to catch up."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from services.registry.watch_barrier import EnforcementBarrier, ReplicaSession, WatchTiming

TIMING = WatchTiming(heartbeat=0.5, lease=3.0, margin=0.5, poll=0.05)


@dataclass
class FakeSessions:
    """WatchSessions in memory, on a clock the test moves."""

    now: list[float]
    revision: int = 0
    rows: dict[str, tuple[int, float]] = field(default_factory=dict)  # id -> (acked revision, lease until)
    writes: int = 0

    def register(self, session_id: str, replica: str, lease_seconds: float) -> int:
        self.rows[session_id] = (0, self.now[0] + lease_seconds)
        return self.revision

    def record_ack(self, session_id: str, revision: int, lease_seconds: float) -> bool:
        row = self.rows.get(session_id)
        if row is None or row[1] <= self.now[0]:
            return False
        self.writes += 1
        self.rows[session_id] = (revision, self.now[0] + lease_seconds)
        return True

    def reap(self) -> None:
        self.rows = {k: v for k, v in self.rows.items() if v[1] > self.now[0]}

    def acked(self) -> dict[str, int]:
        return {k: v[0] for k, v in self.rows.items()}


class Script:
    """The barrier's wait: moves the clock by the timeout and runs what the test scheduled for that moment."""

    def __init__(self, now: list[float]) -> None:
        self.now = now
        self.at: list[tuple[float, Callable[[], None]]] = []
        self.waits = 0

    def __call__(self, cond: threading.Condition, timeout: float) -> None:
        self.waits += 1
        self.now[0] += timeout
        for when, action in [a for a in self.at if a[0] <= self.now[0]]:
            self.at.remove((when, action))
            action()


def _setup() -> tuple[list[float], FakeSessions, Script, EnforcementBarrier]:
    now = [100.0]
    sessions = FakeSessions(now)
    script = Script(now)
    return now, sessions, script, EnforcementBarrier(sessions, TIMING, wait=script)


def _session(barrier: EnforcementBarrier, sessions: FakeSessions, now: list[float], replica: str) -> ReplicaSession:
    return ReplicaSession(sessions, TIMING, replica, on_recorded=barrier.recorded, monotonic=lambda: now[0])


def test_no_replica_registered_returns_at_once() -> None:
    _, _, script, barrier = _setup()
    barrier.wait_enforced(7)
    assert script.waits == 0


def test_waits_until_every_replica_acknowledged_the_revision() -> None:
    now, sessions, script, barrier = _setup()
    a, b = _session(barrier, sessions, now, "gw-a"), _session(barrier, sessions, now, "gw-b")
    sessions.revision = 7  # the suspension committed at 7 and was sent to both
    a.sent(7)
    b.sent(7)
    script.at.append((now[0] + 0.1, lambda: a.ack(1, 7)))
    script.at.append((now[0] + 0.3, lambda: b.ack(1, 6)))  # not far enough yet
    script.at.append((now[0] + 0.5, lambda: b.ack(2, 7)))
    barrier.wait_enforced(7)
    assert now[0] >= 100.5  # not before the last one acknowledged 7
    assert now[0] < 100.0 + TIMING.server_lease  # and not by a lapse
    assert (a.confirmed, b.confirmed, a.lapsed, b.lapsed) == (1, 2, False, False)


def test_a_silent_replica_is_waited_for_until_its_lease_lapsed_then_gets_no_lease_again() -> None:
    now, sessions, _, barrier = _setup()
    silent = _session(barrier, sessions, now, "gw-paused")
    silent.sent(3)
    silent.ack(1, 3)  # recorded at 100: the registry's view of its lease ends at 100 + 3.5
    sessions.revision = 7
    silent.sent(7)
    barrier.wait_enforced(7)
    assert now[0] >= 100.0 + TIMING.server_lease  # the replica's own lease (from before 100, 3 s) ended before
    assert now[0] < 100.0 + TIMING.server_lease + 2 * TIMING.poll  # bounded by that lease
    assert sessions.acked() == {}
    silent.ack(2, 7)  # the replica wakes up: too late, its session is gone
    assert silent.lapsed
    assert silent.confirmed == 1  # no newer confirmation: its stream ends, it must start anew


def test_a_replica_registered_after_the_barrier_began_is_not_waited_for_and_gets_no_lease_below_its_floor() -> None:
    now, sessions, script, barrier = _setup()
    sessions.revision = 7
    late: list[ReplicaSession] = []
    old = _session(barrier, sessions, now, "gw-a")
    old.sent(7)
    script.at.append((now[0] + 0.1, lambda: late.append(_session(barrier, sessions, now, "gw-b"))))
    script.at.append((now[0] + 0.2, lambda: old.ack(1, 7)))
    barrier.wait_enforced(7)
    (new,) = late
    assert new.floor == 7
    new.sent(5)
    new.ack(1, 5)  # resuming from far behind: acknowledged, but not confirmed
    assert new.confirmed == 0
    new.sent(7)
    new.ack(2, 7)
    assert new.confirmed == 2


def test_acknowledgements_of_what_was_never_sent_or_out_of_order_are_ignored() -> None:
    now, sessions, _, barrier = _setup()
    s = _session(barrier, sessions, now, "gw-a")
    s.sent(5)
    s.ack(1, 7)  # never sent
    s.ack(2, 5)
    s.ack(2, 5)  # the same id again
    assert (s.confirmed, sessions.acked()[s.id], sessions.writes) == (2, 5, 1)


def test_heartbeat_acks_are_recorded_a_few_times_a_lease_and_only_recorded_ones_are_confirmed() -> None:
    now, sessions, _, barrier = _setup()
    s = _session(barrier, sessions, now, "gw-a")
    s.sent(5)
    s.ack(1, 5)
    now[0] += 0.5
    s.ack(2, 5)  # a heartbeat's: nothing new, the lease was renewed 0.5 s ago
    assert (sessions.writes, s.confirmed) == (1, 1)  # confirming 2 would start a lease the registry never saw
    now[0] += TIMING.record_every
    s.ack(3, 5)
    assert (sessions.writes, s.confirmed) == (2, 3)
    s.sent(6)
    s.ack(4, 6)  # a new revision is recorded at once: a barrier may be waiting for it
    assert (sessions.writes, s.confirmed) == (3, 4)
