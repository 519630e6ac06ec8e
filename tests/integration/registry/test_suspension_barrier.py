"""An access-removing change returns only once every gateway replica on the acknowledged participant watch applied
it or lost its lease, whichever registry process serves the replica's stream (two processes, one database)."""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from creditnode.registry.v1 import participants_pb2 as pb
from creditnode.registry.v1 import registry_admin_service_pb2 as admin_pb
from creditnode.registry.v1 import registry_service_pb2 as rs_pb
from services.kit.db import make_engine
from services.kit.status import error_info
from services.registry.api import servicers
from services.registry.store.watch_sessions import SqlWatchSessions
from tests.gateway_support import create_departments, seed_records
from tests.registry_helpers import RegistryClient, change


class Replica:
    """A reference gateway replica: applies responses, acknowledges them (unless held), and keeps its lease as the
    protocol says (from sending the acknowledgement the registry confirmed)."""

    def __init__(self, client: RegistryClient, name: str, start_revision: int = 0) -> None:
        self._requests: queue.Queue[rs_pb.WatchParticipantsAckedRequest | None] = queue.Queue()
        self._requests.put(
            rs_pb.WatchParticipantsAckedRequest(
                start=rs_pb.ParticipantWatchStart(
                    replica=name, start_revision=start_revision, kinds=[rs_pb.PARTICIPANT_KIND_PLATFORM]
                )
            )
        )
        self.access: dict[str, bool] = {}
        self.revision = start_revision
        self.hold = threading.Event()  # set: apply, but acknowledge nothing
        self.lease_until = 0.0
        self.last_ack_sent = 0.0
        self.error: grpc.RpcError | None = None
        self._sent: dict[int, float] = {}
        self._ack_id = 0
        self._changed = threading.Condition()
        self.call = client.registry.WatchParticipantsAcked(iter(self._requests.get, None))
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        try:
            for response in self.call:
                with self._changed:
                    for event in response.events:
                        p = event.participant.platform
                        self.access[p.name] = p.access == pb.ACCESS_ALLOWED
                    self.revision = response.revision
                    if (sent := self._sent.get(response.acknowledged)) is not None:
                        self.lease_until = max(self.lease_until, sent + response.lease.ToTimedelta().total_seconds())
                    if not self.hold.is_set():
                        self._ack_id += 1
                        self._sent[self._ack_id] = self.last_ack_sent = time.monotonic()
                        self._requests.put(
                            rs_pb.WatchParticipantsAckedRequest(
                                ack=rs_pb.ParticipantWatchAck(ack_id=self._ack_id, revision=response.revision)
                            )
                        )
                    self._changed.notify_all()
        except grpc.RpcError as exc:
            with self._changed:
                self.error = exc
                self._changed.notify_all()

    def wait_for(self, what: str, predicate: object, timeout: float = 30) -> None:
        with self._changed:
            assert self._changed.wait_for(predicate, timeout), what  # type: ignore[arg-type]

    def leased(self) -> None:
        self.wait_for("a confirmed acknowledgement", lambda: self.lease_until > time.monotonic())

    def close(self) -> None:
        self.call.cancel()
        self._requests.put(None)


@contextlib.contextmanager
def _registries(database_url: str, tmp_path: Path, lease: float, margin: float) -> Iterator[list[RegistryClient]]:
    """Two registry processes' worth of servers (in-process) on one database, with the given watch lease."""
    from services.registry.main import RegistrySettings, build

    servers, channels = [], []
    try:
        for _ in range(2):
            settings = RegistrySettings(
                listen_addr="127.0.0.1:0",
                database_url=database_url,
                var_dir=tmp_path,
                ca_autocreate=True,
                participant_watch_heartbeat_seconds=0.1,
                participant_watch_lease_seconds=lease,
                participant_watch_lease_margin_seconds=margin,
            )
            servers.append(build(settings, configure_logs=False))
            channels.append(grpc.insecure_channel(servers[-1].address))
        yield [RegistryClient(c) for c in channels]
    finally:
        for c in channels:
            c.close()
        for s in servers:
            s.stop(0)


def _registered(database_url: str) -> list[str]:
    """The replicas whose sessions are registered now."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text("SELECT replica FROM participant_watch_sessions")).scalars().all())
    finally:
        engine.dispose()


def _in_background(call: object) -> tuple[threading.Thread, list[float]]:
    returned: list[float] = []

    def run() -> None:
        call()  # type: ignore[operator]
        returned.append(time.monotonic())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, returned


def test_a_suspension_returns_only_after_a_replica_served_by_another_registry_process_acknowledged_it(
    database_url: str, tmp_path: Path
) -> None:
    # A long lease: the replica below must be waited for because of its acknowledgement, never its lease.
    with _registries(database_url, tmp_path, lease=20.0, margin=0.5) as (a, b):
        b.admitted_platform("xian")
        replica = Replica(a, "gw-a")
        try:
            replica.leased()
            replica.hold.set()
            suspend, returned = _in_background(
                lambda: b.admin.SuspendPlatform(
                    admin_pb.SuspendPlatformRequest(name="platforms/xian", change=change()), timeout=60
                )
            )
            replica.wait_for("the suspension applied", lambda: replica.access.get("platforms/xian") is False)
            assert suspend.is_alive()  # applied but not acknowledged: the suspension has not returned
            replica.hold.clear()  # the next response (a heartbeat) is acknowledged with the suspension's revision
            suspend.join(60)
            assert returned
            assert returned[0] > replica.last_ack_sent > 0
        finally:
            replica.close()


def test_a_silent_replica_holds_a_suspension_only_until_its_lease_lapsed_and_is_then_cut_off(
    database_url: str, tmp_path: Path
) -> None:
    with _registries(database_url, tmp_path, lease=1.0, margin=0.3) as (a, b):
        b.admitted_platform("xian")
        replica = Replica(a, "gw-a")
        try:
            replica.leased()
            replica.hold.set()  # paused: it acknowledges nothing from now on
            b.admin.SuspendPlatform(admin_pb.SuspendPlatformRequest(name="platforms/xian", change=change()), timeout=60)
            returned = time.monotonic()
            # The replica's own lease had ended before the registry stopped waiting: it was admitting no one.
            assert returned >= replica.lease_until
            replica.hold.clear()  # it wakes up: its next acknowledgement is refused and its stream ended
            replica.wait_for("the stream ended", lambda: replica.error is not None)
            assert replica.error is not None
            info = error_info(replica.error)
            assert (replica.error.code(), info.reason if info else "") == (
                grpc.StatusCode.ABORTED,
                "ERROR_REASON_WATCH_LEASE_LAPSED",
            )
            assert replica.lease_until < time.monotonic()  # no lease was confirmed after the lapse
        finally:
            replica.close()


def test_a_replica_resuming_after_records_were_ingested_is_leased_again(database_url: str, tmp_path: Path) -> None:
    # Record ingestion advances the registry's revision counter but writes no participant event: a resumed stream
    # never reaches the counter, so the lease must not wait for it (the gateway failed closed after every restart
    # of the registry that followed an ingestion).
    with _registries(database_url, tmp_path, lease=20.0, margin=0.5) as (a, b):
        b.admitted_platform("xian")
        enterprise, _ = b.enterprise("platforms/xian")
        create_departments(b)
        first = Replica(a, "gw-a")
        try:
            first.leased()
            resume_from = first.revision
        finally:
            first.close()
        seed_records(b.channel, enterprise.uscc)
        resumed = Replica(b, "gw-a", start_revision=resume_from)
        try:
            resumed.leased()
        finally:
            resumed.close()


def test_a_suspension_with_records_ingested_meanwhile_waits_for_acknowledgements_not_for_leases(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The barrier waited for the revision counter, which record ingestion advances too: with a record committed
    # between the suspension and its wait, no acknowledgement could reach it, and as the replica went on
    # acknowledging, its lease never lapsed either: the suspension hung until the next participant change.
    with _registries(database_url, tmp_path, lease=20.0, margin=0.5) as (a, b):
        b.admitted_platform("xian")
        enterprise, _ = b.enterprise("platforms/xian")
        create_departments(b)
        replica = Replica(a, "gw-a")
        try:
            replica.leased()
            suspend = servicers.usecases.transition_platform

            def then_ingest(*args: object, **kwargs: object) -> object:
                committed = suspend(*args, **kwargs)  # type: ignore[arg-type]
                seed_records(b.channel, enterprise.uscc)  # committed before the barrier reads what to wait for
                return committed

            monkeypatch.setattr(servicers.usecases, "transition_platform", then_ingest)
            b.admin.SuspendPlatform(admin_pb.SuspendPlatformRequest(name="platforms/xian", change=change()), timeout=60)
            assert replica.access.get("platforms/xian") is False
            assert replica.error is None  # not cut off for a lapsed lease
            assert _registered(database_url) == ["gw-a"]  # its session was waited for, not reaped
        finally:
            replica.close()


def test_a_stream_whose_acknowledgement_could_not_be_recorded_ends_and_a_new_one_is_leased(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The acknowledgements are read in a thread of their own. When the database failed there, that thread ended and
    # the stream went on: the replica kept acknowledging into a session that never renewed its lease again, and so
    # failed closed for good while its stream looked healthy.
    with _registries(database_url, tmp_path, lease=1.0, margin=0.3) as (a, _):
        replica = Replica(a, "gw-a")
        try:
            replica.leased()
            recorded = SqlWatchSessions.record_ack

            def database_down(*_: object) -> bool:
                raise OperationalError("UPDATE participant_watch_sessions", {}, ConnectionError("server closed"))

            monkeypatch.setattr(SqlWatchSessions, "record_ack", database_down)
            replica.wait_for("the stream ended", lambda: replica.error is not None)
            assert replica.error is not None
            info = error_info(replica.error)
            assert (replica.error.code(), info.reason if info else "") == (
                grpc.StatusCode.UNAVAILABLE,
                "ERROR_REASON_DEPENDENCY_UNAVAILABLE",
            )
        finally:
            replica.close()
        monkeypatch.setattr(SqlWatchSessions, "record_ack", recorded)
        again = Replica(a, "gw-a")
        try:
            again.leased()
        finally:
            again.close()


def test_granting_access_does_not_wait_for_a_silent_replica(database_url: str, tmp_path: Path) -> None:
    with _registries(database_url, tmp_path, lease=20.0, margin=0.5) as (a, b):
        replica = Replica(a, "gw-a")
        try:
            replica.leased()
            replica.hold.set()
            b.admitted_platform("xian")  # creation, review, assessments, admission: none waits for the replica
            b.admin.CreateInstitution(
                admin_pb.CreateInstitutionRequest(
                    institution_id="boc-xian",
                    display_name="中国银行西安分行",
                    licence_number="B0003H261010001",
                    type=pb.INSTITUTION_TYPE_BANK,
                    platform="platforms/xian",
                    change=change(),
                ),
                timeout=60,
            )
            assert _registered(database_url) == [
                "gw-a"
            ]  # still registered (its lease runs): nothing waited for it to lapse
        finally:
            replica.close()


@pytest.mark.parametrize("first", [None, rs_pb.WatchParticipantsAckedRequest(ack=rs_pb.ParticipantWatchAck(ack_id=1))])
def test_a_watch_must_start_with_a_start(database_url: str, tmp_path: Path, first: object) -> None:
    with _registries(database_url, tmp_path, lease=1.0, margin=0.3) as (a, _):
        requests = [first] if first is not None else []
        with pytest.raises(grpc.RpcError) as caught:
            list(a.registry.WatchParticipantsAcked(iter(requests), timeout=10))
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
