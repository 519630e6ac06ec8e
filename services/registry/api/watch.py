"""WatchParticipants: list-then-watch with revisions, resumable, heartbeats, explicit tombstones; and its acknowledged
form for gateway replicas (WatchParticipantsAcked, see watch_barrier.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Iterator
from datetime import datetime

import grpc
import structlog
from google.protobuf.duration_pb2 import Duration

from creditnode.registry.v1 import participants_pb2 as pb
from creditnode.registry.v1 import registry_service_pb2 as rs_pb
from services.kit.errors import Aborted, FailedPrecondition, Unavailable
from services.kit.notify import CommitNotifier
from services.kit.validation import invalid
from services.registry import usecases
from services.registry.api import convert
from services.registry.domain.ports import EventType, ParticipantEvent, ParticipantKind, RegistryUnitOfWork
from services.registry.watch_barrier import EnforcementBarrier, ReplicaSession

log = structlog.get_logger("registry.watch")

SNAPSHOT_BATCH = 500
MAX_REVISIONS_PER_BATCH = 200

_KINDS = {
    rs_pb.PARTICIPANT_KIND_PLATFORM: ParticipantKind.PLATFORM,
    rs_pb.PARTICIPANT_KIND_INSTITUTION: ParticipantKind.INSTITUTION,
    rs_pb.PARTICIPANT_KIND_ENTERPRISE: ParticipantKind.ENTERPRISE,
    rs_pb.PARTICIPANT_KIND_DEPARTMENT: ParticipantKind.DEPARTMENT,
}


def _participant(
    uow: RegistryUnitOfWork, kind: ParticipantKind, participant_id: str, now: datetime
) -> pb.Participant | None:
    if kind is ParticipantKind.PLATFORM:
        p = uow.platforms.get(participant_id)
        return pb.Participant(platform=convert.platform(usecases.platform_view(uow, p, now))) if p else None
    if kind is ParticipantKind.INSTITUTION:
        i = uow.institutions.get(participant_id)
        return pb.Participant(institution=convert.institution(usecases.institution_view(uow, i))) if i else None
    if kind is ParticipantKind.ENTERPRISE:
        e = uow.enterprises.get(participant_id)
        return pb.Participant(enterprise=convert.enterprise(e)) if e else None
    d = uow.departments.get(participant_id)
    return pb.Participant(department=convert.department(d)) if d else None


class ParticipantWatch:
    """Serves one WatchParticipants call."""

    def __init__(
        self,
        reader: Callable[[], RegistryUnitOfWork],
        notifier: CommitNotifier,
        clock: Callable[[], datetime],
        *,
        poll_seconds: float = 0.2,
        heartbeat_seconds: float = 2.0,
    ) -> None:
        self.reader = reader
        self.notifier = notifier
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.heartbeat_seconds = heartbeat_seconds

    def __call__(
        self, request: rs_pb.WatchParticipantsRequest, context: grpc.ServicerContext
    ) -> Iterator[rs_pb.WatchParticipantsResponse]:
        if any(k not in _KINDS for k in request.kinds):
            raise invalid("kinds", "holds a value that is not a participant kind")
        kinds = {_KINDS[k] for k in request.kinds} or set(ParticipantKind)
        if request.start_revision < 0:
            raise invalid("start_revision", "must not be negative")
        if request.start_revision == 0:
            revision = yield from self._snapshot(kinds)
        else:
            revision = request.start_revision
            with self.reader() as uow:
                current = uow.events.current_revision()
            if revision > current:
                # A revision we never issued (e.g. the database was restored from backup): the client must list again.
                raise FailedPrecondition(
                    "ERROR_REASON_WATCH_REVISION_COMPACTED",
                    "start_revision is ahead of this registry; list again from 0",
                    {"current_revision": str(current)},
                )
        yield from self._follow(revision, kinds, context)

    def _snapshot(self, kinds: set[ParticipantKind]) -> Generator[rs_pb.WatchParticipantsResponse, None, int]:
        now = self.clock()
        with self.reader() as uow:
            # Read the revision first: anything committed while we list shows up again as an event after it.
            revision = uow.events.current_revision()
            batch: list[pb.Participant] = []
            for participant in self._all(uow, kinds, now):
                batch.append(participant)
                if len(batch) >= SNAPSHOT_BATCH:
                    yield self._snapshot_response(batch, revision, complete=False)
                    batch = []
        yield self._snapshot_response(batch, revision, complete=True)
        return revision

    @staticmethod
    def _snapshot_response(
        batch: list[pb.Participant], revision: int, complete: bool
    ) -> rs_pb.WatchParticipantsResponse:
        return rs_pb.WatchParticipantsResponse(
            events=[rs_pb.ParticipantEvent(type=rs_pb.PARTICIPANT_EVENT_TYPE_SNAPSHOT, participant=p) for p in batch],
            revision=revision,
            snapshot_complete=complete,
        )

    @staticmethod
    def _all(uow: RegistryUnitOfWork, kinds: set[ParticipantKind], now: datetime) -> Iterator[pb.Participant]:
        if ParticipantKind.PLATFORM in kinds:
            for p in uow.platforms.all():
                yield pb.Participant(platform=convert.platform(usecases.platform_view(uow, p, now)))
        if ParticipantKind.INSTITUTION in kinds:
            for i in uow.institutions.all():
                yield pb.Participant(institution=convert.institution(usecases.institution_view(uow, i)))
        if ParticipantKind.DEPARTMENT in kinds:
            after = None
            while departments := uow.departments.page(after=after, limit=SNAPSHOT_BATCH):
                yield from (pb.Participant(department=convert.department(d)) for d in departments)
                after = departments[-1].code
        if ParticipantKind.ENTERPRISE in kinds:
            after = None
            while enterprises := uow.enterprises.page(after=after, limit=SNAPSHOT_BATCH, platform_id=""):
                yield from (pb.Participant(enterprise=convert.enterprise(e)) for e in enterprises)
                after = enterprises[-1].uscc

    def _follow(
        self, revision: int, kinds: set[ParticipantKind], context: grpc.ServicerContext
    ) -> Iterator[rs_pb.WatchParticipantsResponse]:
        seen = self.notifier.generation
        since_heartbeat = 0.0
        while context.is_active():
            with self.reader() as uow:
                events = uow.events.after(revision, MAX_REVISIONS_PER_BATCH)
                if events:
                    now = self.clock()
                    out = [self._event(uow, e, now) for e in events if e.kind in kinds]
                    revision = events[-1].revision
            if events:
                yield rs_pb.WatchParticipantsResponse(events=[e for e in out if e is not None], revision=revision)
                since_heartbeat = 0.0
                if len({e.revision for e in events}) >= MAX_REVISIONS_PER_BATCH:
                    continue  # a full batch: more may be waiting
                # The backlog is through: say so at once (a heartbeat), not after an idle spell that a steady flow of
                # events may never leave, so a watcher that fell behind knows when its view is current again.
                yield rs_pb.WatchParticipantsResponse(revision=revision)
                continue
            seen = self.notifier.wait(seen, self.poll_seconds)
            since_heartbeat += self.poll_seconds
            if since_heartbeat >= self.heartbeat_seconds:
                yield rs_pb.WatchParticipantsResponse(revision=revision)  # heartbeat: "nothing new up to here"
                since_heartbeat = 0.0

    @staticmethod
    def _event(uow: RegistryUnitOfWork, event: ParticipantEvent, now: datetime) -> rs_pb.ParticipantEvent | None:
        participant = _participant(uow, event.kind, event.participant_id, now)
        if participant is None:
            return None
        kind = (
            rs_pb.PARTICIPANT_EVENT_TYPE_TOMBSTONE
            if event.type is EventType.TOMBSTONE
            else rs_pb.PARTICIPANT_EVENT_TYPE_UPSERT
        )
        return rs_pb.ParticipantEvent(revision=event.revision, type=kind, participant=participant)


def _duration(seconds: float) -> Duration:
    out = Duration()
    out.FromMilliseconds(round(seconds * 1000))
    return out


class AckedParticipantWatch:
    """Serves one WatchParticipantsAcked call: the participant watch, acknowledged by a gateway replica."""

    def __init__(
        self,
        reader: Callable[[], RegistryUnitOfWork],
        notifier: CommitNotifier,
        clock: Callable[[], datetime],
        barrier: EnforcementBarrier,
    ) -> None:
        timing = barrier.timing
        self.barrier = barrier
        self.watch = ParticipantWatch(
            reader, notifier, clock, poll_seconds=min(0.2, timing.heartbeat / 2), heartbeat_seconds=timing.heartbeat
        )
        self.lease, self.heartbeat = _duration(timing.lease), _duration(timing.heartbeat)

    def __call__(
        self, requests: Iterator[rs_pb.WatchParticipantsAckedRequest], context: grpc.ServicerContext
    ) -> Iterator[rs_pb.WatchParticipantsAckedResponse]:
        first = next(requests, None)
        if first is None or first.WhichOneof("kind") != "start":
            raise invalid("start", "the first message of a watch must be a start")
        start = first.start
        if not 1 <= len(start.replica) <= 100:
            raise invalid("start.replica", "must be 1-100 characters")
        # Checked here too, before registering: a refused start must leave no session for barriers to wait for.
        if any(k not in _KINDS for k in start.kinds):
            raise invalid("start.kinds", "holds a value that is not a participant kind")
        if start.start_revision < 0:
            raise invalid("start.start_revision", "must not be negative")
        watch_request = rs_pb.WatchParticipantsRequest(start_revision=start.start_revision, kinds=start.kinds)
        # Registered before the listing or backlog is read (ReplicaSession registers on creation).
        session = self.barrier.open(start.replica)
        threading.Thread(
            target=self._read_acks, args=(requests, session), name="registry-watch-acks", daemon=True
        ).start()
        for response in self.watch(watch_request, context):
            if session.lapsed:
                raise Aborted(
                    "ERROR_REASON_WATCH_LEASE_LAPSED", "no acknowledgement within the lease; start a new watch"
                )
            if session.broken:
                raise Unavailable(
                    "ERROR_REASON_DEPENDENCY_UNAVAILABLE", "an acknowledgement could not be recorded; start a new watch"
                )
            session.sent(response.revision)
            yield rs_pb.WatchParticipantsAckedResponse(
                events=response.events,
                revision=response.revision,
                snapshot_complete=response.snapshot_complete,
                acknowledged=session.confirmed,
                lease=self.lease,
                heartbeat_interval=self.heartbeat,
            )

    @staticmethod
    def _read_acks(requests: Iterator[rs_pb.WatchParticipantsAckedRequest], session: ReplicaSession) -> None:
        try:
            for request in requests:
                if request.WhichOneof("kind") == "ack":
                    session.ack(request.ack.ack_id, request.ack.revision)
        except grpc.RpcError:
            pass  # the stream ended; the session stays registered until its lease lapses
        except Exception:  # the database failed: end the stream at its next message, so the replica starts again
            session.broken = True
            log.warning("participant_watch_ack_reader_failed", replica=session.replica, exc_info=True)
