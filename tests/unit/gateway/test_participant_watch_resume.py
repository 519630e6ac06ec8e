"""The participant watch resumes where it can trust what it holds: a listing broken part-way is listed again."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import grpc

from creditnode.registry.v1 import participants_pb2 as pp
from creditnode.registry.v1 import registry_service_pb2 as rs
from services.gateway.clients.participants import ParticipantCache


class _Down(grpc.RpcError):
    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNAVAILABLE


def _platform(pid: str) -> rs.ParticipantEvent:
    p = pp.Platform(name=f"platforms/{pid}", status=pp.PLATFORM_STATUS_ADMITTED, access=pp.ACCESS_ALLOWED)
    return rs.ParticipantEvent(type=rs.PARTICIPANT_EVENT_TYPE_SNAPSHOT, participant=pp.Participant(platform=p))


class _ListingBreaksOnce:
    """First call: the first batch of a listing at revision 7, then the stream breaks. Later calls: a whole listing
    when asked from 0, else (a resume) only a heartbeat; then the stream stays open until the test ends."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.settled = threading.Event()  # the second call's last answer was taken (so applied) by the cache
        self.done = threading.Event()

    def WatchParticipants(self, request: rs.WatchParticipantsRequest) -> Iterator[rs.WatchParticipantsResponse]:
        self.starts.append(request.start_revision)
        return self._stream(request.start_revision, len(self.starts))

    def _stream(self, start: int, call: int) -> Iterator[rs.WatchParticipantsResponse]:
        if call == 1:
            yield rs.WatchParticipantsResponse(events=[_platform("xian")], revision=7, snapshot_complete=False)
            raise _Down()
        if start == 0:
            yield rs.WatchParticipantsResponse(
                events=[_platform("xian"), _platform("baoji")], revision=7, snapshot_complete=True
            )
        else:
            yield rs.WatchParticipantsResponse(revision=7)  # heartbeat: "nothing new after 7"
        self.settled.set()
        self.done.wait(10)
        raise _Down()

    def GetCertificateRevocationList(self, request: object, timeout: float) -> rs.GetCertificateRevocationListResponse:
        return rs.GetCertificateRevocationListResponse()


def test_a_listing_broken_part_way_is_listed_again_from_the_start() -> None:
    registry = _ListingBreaksOnce()
    cache = ParticipantCache(grpc.insecure_channel("127.0.0.1:9"), reconnect_seconds=0.01)
    cache._stub = registry  # type: ignore[assignment]
    cache.start()
    try:
        assert registry.settled.wait(10)
        cache.refresh_crl()
        assert registry.starts == [0, 0]  # not resumed from the broken listing's revision
        assert cache.platform("platforms/baoji") is not None  # the part of the listing never received
        assert cache.live()
    finally:
        registry.done.set()
        cache.close()


def _event(pid: str, admitted: bool, revision: int) -> rs.ParticipantEvent:
    p = pp.Platform(
        name=f"platforms/{pid}",
        status=pp.PLATFORM_STATUS_ADMITTED if admitted else pp.PLATFORM_STATUS_SUSPENDED,
        access=pp.ACCESS_ALLOWED if admitted else pp.ACCESS_DENIED,
    )
    return rs.ParticipantEvent(
        revision=revision, type=rs.PARTICIPANT_EVENT_TYPE_UPSERT, participant=pp.Participant(platform=p)
    )


class _NoCrl:
    def GetCertificateRevocationList(self, request: object, timeout: float) -> rs.GetCertificateRevocationListResponse:
        return rs.GetCertificateRevocationListResponse()


def test_after_its_lease_lapsed_the_view_is_trusted_again_only_once_the_backlog_is_through() -> None:
    now = [0.0]
    cache = ParticipantCache(grpc.insecure_channel("127.0.0.1:9"), lease_seconds=6, clock=lambda: now[0])
    cache._stub = _NoCrl()  # type: ignore[assignment]  # threads are never started: the test feeds the stream
    cache.refresh_crl()
    cache._crl_fresh_until = float("inf")
    listing = rs.WatchParticipantsResponse(events=[_platform("xian")], revision=5, snapshot_complete=True)
    cache._apply(listing)
    assert cache.live()
    now[0] = 30.0  # the stream was down far beyond the lease; meanwhile xian was suspended at revision 250
    assert not cache.live()
    # Back: the registry sends the backlog 200 revisions at a time (here the first batch holds nothing we follow).
    cache._apply(rs.WatchParticipantsResponse(revision=205))
    access = cache.platform("platforms/xian")
    assert access is not None
    assert access.access_allowed  # what the gateway still holds is stale...
    assert not cache.live()  # ...so it is not trusted yet
    cache._apply(rs.WatchParticipantsResponse(events=[_event("xian", False, 250)], revision=250))
    assert not cache.live()  # more may follow: only "nothing new up to here" says the backlog is through
    cache._apply(rs.WatchParticipantsResponse(revision=250))  # the registry's heartbeat
    assert cache.live()
    suspended = cache.platform("platforms/xian")
    assert suspended is not None
    assert not suspended.access_allowed


def test_a_live_view_stays_live_while_events_keep_coming_within_the_lease() -> None:
    now = [0.0]
    cache = ParticipantCache(grpc.insecure_channel("127.0.0.1:9"), lease_seconds=6, clock=lambda: now[0])
    cache._stub = _NoCrl()  # type: ignore[assignment]
    cache._crl_fresh_until = float("inf")
    cache._apply(rs.WatchParticipantsResponse(events=[_platform("xian")], revision=5, snapshot_complete=True))
    for revision in range(6, 20):
        now[0] += 1.0
        cache._apply(rs.WatchParticipantsResponse(events=[_event("xian", True, revision)], revision=revision))
        assert cache.live()
