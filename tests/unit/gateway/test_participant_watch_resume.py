"""The participant watch's replica side: a listing broken part-way is listed again; the view is trusted only under
the lease of an acknowledgement the registry confirmed, counted from when it was sent; acks follow what they apply."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator

import grpc
from google.protobuf.duration_pb2 import Duration

from creditnode.registry.v1 import participants_pb2 as pp
from creditnode.registry.v1 import registry_service_pb2 as rs
from services.gateway.clients.participants import ParticipantCache


class _Down(grpc.RpcError):
    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNAVAILABLE


def _lease(seconds: float) -> Duration:
    d = Duration()
    d.FromMilliseconds(round(seconds * 1000))
    return d


def _platform(pid: str) -> rs.ParticipantEvent:
    p = pp.Platform(
        name=f"platforms/{pid}", status=pp.PLATFORM_STATUS_ADMITTED, access=pp.ACCESS_ALLOWED, certificate_serial="0a"
    )
    return rs.ParticipantEvent(type=rs.PARTICIPANT_EVENT_TYPE_SNAPSHOT, participant=pp.Participant(platform=p))


def _event(pid: str, admitted: bool, revision: int) -> rs.ParticipantEvent:
    p = pp.Platform(
        name=f"platforms/{pid}",
        status=pp.PLATFORM_STATUS_ADMITTED if admitted else pp.PLATFORM_STATUS_SUSPENDED,
        access=pp.ACCESS_ALLOWED if admitted else pp.ACCESS_DENIED,
        certificate_serial="0a" if admitted else "",  # a suspension revokes the certificate
    )
    return rs.ParticipantEvent(
        revision=revision, type=rs.PARTICIPANT_EVENT_TYPE_UPSERT, participant=pp.Participant(platform=p)
    )


def _response(revision: int, acknowledged: int = 0, *events: rs.ParticipantEvent, complete: bool = False) -> object:
    return rs.WatchParticipantsAckedResponse(
        events=list(events), revision=revision, snapshot_complete=complete, acknowledged=acknowledged, lease=_lease(3)
    )


class _ListingBreaksOnce:
    """First call: the first batch of a listing at revision 7, then the stream breaks. Later calls: a whole listing
    when asked from 0, else (a resume) only a heartbeat, then a heartbeat confirming the first acknowledgement; then
    the stream stays open until the test ends."""

    def __init__(self) -> None:
        self.starts: list[rs.ParticipantWatchStart] = []
        self.settled = threading.Event()  # the second call's last answer was taken (so applied) by the cache
        self.done = threading.Event()

    def WatchParticipantsAcked(
        self, requests: Iterator[rs.WatchParticipantsAckedRequest]
    ) -> Iterator[rs.WatchParticipantsAckedResponse]:
        self.starts.append(next(requests).start)
        return self._stream(self.starts[-1].start_revision, len(self.starts))

    def _stream(self, start: int, call: int) -> Iterator[rs.WatchParticipantsAckedResponse]:
        if call == 1:
            yield _response(7, 0, _platform("xian"))  # type: ignore[misc]
            raise _Down()
        if start == 0:
            yield _response(7, 0, _platform("xian"), _platform("baoji"), complete=True)  # type: ignore[misc]
        else:
            yield _response(7)  # type: ignore[misc]
        yield _response(7, 1)  # type: ignore[misc]
        self.settled.set()
        self.done.wait(10)
        raise _Down()


@contextlib.contextmanager
def _following(registry: _ListingBreaksOnce) -> Iterator[ParticipantCache]:
    """A started cache on ``registry``, once its second stream settled."""
    cache = ParticipantCache(grpc.insecure_channel("127.0.0.1:9"), replica_id="gw-a", reconnect_seconds=0.01)
    cache._stub = registry  # type: ignore[assignment]
    cache.start()
    try:
        assert registry.settled.wait(10)
        yield cache
    finally:
        registry.done.set()
        cache.close()


def test_a_listing_broken_part_way_is_listed_again_from_the_start() -> None:
    registry = _ListingBreaksOnce()
    with _following(registry) as cache:
        assert [s.start_revision for s in registry.starts] == [0, 0]  # not resumed from the broken listing
        assert {s.replica for s in registry.starts} == {"gw-a"}
        assert cache.platform("platforms/baoji") is not None  # the part of the listing never received
        assert cache.live()


class _FailsOnceUnexpectedly(_ListingBreaksOnce):
    """As above, except that the first call fails with an error that is not gRPC's (a bug, a malformed message)."""

    def _stream(self, start: int, call: int) -> Iterator[rs.WatchParticipantsAckedResponse]:
        if call == 1:
            raise RuntimeError("not a gRPC error")
        yield from super()._stream(start, call)


def test_an_error_that_is_not_grpcs_is_followed_by_a_new_stream() -> None:
    # The watch thread caught only gRPC's errors: any other ended it, and the replica stayed failed closed for good.
    registry = _FailsOnceUnexpectedly()
    with _following(registry) as cache:
        assert len(registry.starts) == 2
        assert cache.live()


def _fed_cache(now: list[float], lease_cap: float = 6.0) -> tuple[ParticipantCache, queue.Queue[object]]:
    """A cache whose threads never start: the test feeds the stream and reads the acknowledgements it sends."""
    cache = ParticipantCache(grpc.insecure_channel("127.0.0.1:9"), lease_seconds=lease_cap, clock=lambda: now[0])
    acks: queue.Queue[object] = queue.Queue()
    cache._acks = acks  # type: ignore[assignment]
    return cache, acks


def _ack(acks: queue.Queue[object]) -> rs.ParticipantWatchAck:
    request = acks.get_nowait()
    assert isinstance(request, rs.WatchParticipantsAckedRequest)
    return request.ack


def test_every_response_is_acknowledged_with_its_revision_after_it_was_applied() -> None:
    now = [0.0]
    cache, acks = _fed_cache(now)
    cache._apply(_response(5, 0, _platform("xian"), complete=True))  # type: ignore[arg-type]
    # What is applied, live or not (the view turns live only once the registry confirms an acknowledgement).
    assert (_ack(acks).ack_id, cache._platforms.get("platforms/xian") is not None) == (1, True)
    cache._apply(_response(9, 0, _event("xian", False, 9)))  # type: ignore[arg-type]
    second = _ack(acks)
    assert (second.ack_id, second.revision) == (2, 9)
    view = cache._platforms.get("platforms/xian")
    assert view is not None
    # Acknowledged only once the suspension and the certificate it revoked are both in force here.
    assert (view.access_allowed, view.certificate_serial) == (False, None)


def test_no_lease_before_the_registry_confirms_an_acknowledgement() -> None:
    now = [0.0]
    cache, _ = _fed_cache(now)
    cache._apply(_response(5, 0, _platform("xian"), complete=True))  # type: ignore[arg-type]
    assert not cache.live()  # applied and acknowledged, but not confirmed: the registry may not have recorded it
    cache._apply(_response(5, 7))  # type: ignore[arg-type]  # confirms an ack id this stream never sent
    assert not cache.live()
    cache._apply(_response(5, 1))  # type: ignore[arg-type]
    assert cache.live()


def test_the_lease_counts_from_sending_the_confirmed_acknowledgement_and_then_fails_closed() -> None:
    now = [10.0]
    cache, _ = _fed_cache(now)
    cache._apply(_response(5, 0, _platform("xian"), complete=True))  # type: ignore[arg-type]  # ack 1 sent at 10
    now[0] = 12.0
    cache._apply(_response(5, 1))  # type: ignore[arg-type]  # confirmed at 12: the lease (3 s) runs until 13
    now[0] = 12.9
    assert cache.live()
    now[0] = 13.0
    assert not cache.live()  # the registry stops waiting for this replica no earlier: it must admit no one now


def test_a_registry_lease_longer_than_the_replicas_cap_is_cut_to_the_cap() -> None:
    now = [0.0]
    cache, _ = _fed_cache(now, lease_cap=1.0)
    cache._apply(_response(5, 0, _platform("xian"), complete=True))  # type: ignore[arg-type]
    cache._apply(_response(5, 1))  # type: ignore[arg-type]
    now[0] = 0.99
    assert cache.live()
    now[0] = 1.0
    assert not cache.live()
