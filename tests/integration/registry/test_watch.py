"""WatchParticipants: snapshot then changes, cascades as upserts, explicit tombstones, resume from a revision."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

import grpc
import pytest

from creditnode.registry.v1 import participants_pb2 as pb
from creditnode.registry.v1 import registry_admin_service_pb2 as admin_pb
from creditnode.registry.v1 import registry_service_pb2 as rs_pb
from services.kit.status import error_info
from tests.registry_helpers import RegistryClient, change


class Watcher:
    """Consumes a watch stream in the background so tests can wait for what they expect."""

    def __init__(self, client: RegistryClient, start_revision: int = 0, kinds: tuple[int, ...] = ()) -> None:
        self.responses: queue.Queue[rs_pb.WatchParticipantsResponse] = queue.Queue()
        self.call = client.registry.WatchParticipants(
            rs_pb.WatchParticipantsRequest(start_revision=start_revision, kinds=kinds)
        )
        self.thread = threading.Thread(target=self._pump, daemon=True)
        self.thread.start()

    def _pump(self) -> None:
        try:
            for response in self.call:
                self.responses.put(response)
        except grpc.RpcError:
            pass

    def next_events(self, timeout: float = 10) -> rs_pb.WatchParticipantsResponse:
        while True:
            response = self.responses.get(timeout=timeout)
            if response.events or response.snapshot_complete:
                return response

    def close(self) -> None:
        self.call.cancel()


def _name(event: rs_pb.ParticipantEvent) -> str:
    which = event.participant.WhichOneof("kind")
    return str(getattr(event.participant, which).name)


@pytest.fixture
def client(registry_server: str) -> Iterator[RegistryClient]:
    channel = grpc.insecure_channel(registry_server)
    yield RegistryClient(channel)
    channel.close()


def test_snapshot_then_changes_with_cascade_and_tombstones(client: RegistryClient) -> None:
    platform, _ = client.admitted_platform("xian")
    client.admin.CreateInstitution(
        admin_pb.CreateInstitutionRequest(
            institution_id="xa-bank",
            display_name="西安银行",
            licence_number="B1",
            type=pb.INSTITUTION_TYPE_BANK,
            platform=platform.name,
            change=change(),
        )
    )
    watcher = Watcher(client)
    try:
        snapshot = watcher.next_events()
        assert snapshot.snapshot_complete
        assert {_name(e) for e in snapshot.events} == {"platforms/xian", "institutions/xa-bank"}
        assert all(e.type == rs_pb.PARTICIPANT_EVENT_TYPE_SNAPSHOT for e in snapshot.events)
        start = snapshot.revision

        client.admin.SuspendPlatform(admin_pb.SuspendPlatformRequest(name="platforms/xian", change=change()))
        batch = watcher.next_events()
        assert batch.revision > start
        by_name = {_name(e): e for e in batch.events}
        assert by_name["platforms/xian"].participant.platform.access == pb.ACCESS_DENIED
        assert by_name["institutions/xa-bank"].participant.institution.access == pb.ACCESS_DENIED  # the cascade
        assert all(e.revision == batch.revision for e in batch.events)

        client.admin.RemovePlatform(admin_pb.RemovePlatformRequest(name="platforms/xian", change=change()))
        batch = watcher.next_events()
        types = {_name(e): e.type for e in batch.events}
        assert types["platforms/xian"] == rs_pb.PARTICIPANT_EVENT_TYPE_TOMBSTONE
    finally:
        watcher.close()


def test_resume_from_a_revision_sends_only_later_changes(client: RegistryClient) -> None:
    client.admitted_platform("xian")
    watcher = Watcher(client, kinds=(rs_pb.PARTICIPANT_KIND_PLATFORM,))
    revision = watcher.next_events().revision
    watcher.close()

    client.admitted_platform("baoji")  # while nobody watches
    resumed = Watcher(client, start_revision=revision, kinds=(rs_pb.PARTICIPANT_KIND_PLATFORM,))
    try:
        seen: list[str] = []
        while "platforms/baoji" not in seen or seen.count("platforms/baoji") < 5:
            batch = resumed.next_events()
            assert not batch.snapshot_complete
            seen += [_name(e) for e in batch.events]
        assert "platforms/xian" not in seen  # nothing from before the revision is replayed
    finally:
        resumed.close()


def test_resuming_from_a_revision_never_issued_asks_for_a_new_listing(client: RegistryClient) -> None:
    stream = client.registry.WatchParticipants(rs_pb.WatchParticipantsRequest(start_revision=10_000))
    with pytest.raises(grpc.RpcError) as err:
        next(iter(stream))
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(err.value).reason == "ERROR_REASON_WATCH_REVISION_COMPACTED"  # type: ignore[union-attr]
