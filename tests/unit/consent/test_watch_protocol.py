"""Consent's watch hub and a gateway replica's consent cache, pumped by hand: no replica decides from memory that lacks
a revocation already returned, and a broken listing is started again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration

from creditnode.consent.v1 import consent_service_pb2 as pb
from services.consent.watch import Session, WatchHub, WatchMessage, WatchTiming
from services.gateway.clients.consent import ConsentCache, ConsentUnavailable
from tests.unit.gateway.test_consent_cache import Clock, ts

E, R, P, ITEM = "enterprises/x", "platforms/xian", "PRE_LOAN", "TAX_PAYMENT"


def auth(name: str, state: int = pb.AUTHORIZATION_STATE_ACTIVE, requester: str = R) -> SimpleNamespace:
    return SimpleNamespace(name=name, state=state, requester=requester)


class Feed:
    """The change feed: the hub reads only each event's revision and passes the authorizations through."""

    def __init__(self) -> None:
        self.steps: list[tuple[SimpleNamespace, SimpleNamespace]] = []
        self.state: dict[str, SimpleNamespace] = {}

    def add(self, a: SimpleNamespace) -> int:
        self.steps.append((SimpleNamespace(revision=len(self.steps) + 1), a))
        self.state[a.name] = a
        return len(self.steps)

    def current_revision(self) -> int:
        return len(self.steps)

    def changes_after(self, revision: int, limit: int) -> list[tuple[SimpleNamespace, SimpleNamespace]]:
        return self.steps[revision : revision + limit]

    def live_authorizations(self) -> list[SimpleNamespace]:
        return [a for a in self.state.values() if a.state != pb.AUTHORIZATION_STATE_REVOKED]


def to_pb(a: SimpleNamespace) -> pb.Authorization:
    now = datetime.now(UTC)
    return pb.Authorization(
        name=a.name,
        enterprise=E,
        requester=a.requester,
        purpose=P,
        covered_items=[ITEM],
        valid_from=ts(now - timedelta(hours=1)),
        valid_until=ts(now + timedelta(hours=1)),
        data_since=ts(now - timedelta(days=30)),
        state=a.state,
    )


def pump(hub: WatchHub, session: Session, stream: Iterator[WatchMessage], cache: ConsentCache) -> None:
    """One response: the hub builds it, the cache applies it, its acknowledgement reaches the hub."""
    m = next(stream)
    cache._apply(
        pb.WatchAuthorizationsResponse(
            events=[pb.AuthorizationEvent(authorization=to_pb(a)) for _, a in m.changes],
            revision=m.revision,
            acknowledged=m.acknowledged,
            reset=m.reset,
            snapshot_complete=m.snapshot_complete,
            lease=Duration(seconds=2),
        )
    )
    while not cache._acks.empty():
        request = cache._acks.get_nowait()
        assert request is not None
        hub.ack(session, request.ack.ack_id, request.ack.revision)


@pytest.fixture
def world() -> tuple[Clock, Feed, WatchHub, ConsentCache]:
    clock, feed = Clock(), Feed()
    feed.add(auth("authorizations/a"))
    hub = WatchHub(feed, WatchTiming(), monotonic=clock)  # not started: the test pulls and pumps
    clock.now += 3  # past the quiet period after a start
    return clock, feed, hub, ConsentCache(grpc.insecure_channel("127.0.0.1:9"), "r1", clock=clock)


def test_a_replica_resuming_from_far_behind_gets_no_lease_before_applying_a_returned_revocation(world: Any) -> None:
    clock, feed, hub, cache = world
    s1 = hub.open("r1")
    first = hub.messages(s1, 0)
    pump(hub, s1, first, cache)  # the listing
    pump(hub, s1, first, cache)  # a heartbeat confirming its acknowledgement
    assert cache.decide(R, E, P, frozenset({ITEM})).allowed
    hub.disconnect(s1)  # the replica is cut off
    for i in range(1500):  # a burst of other changes, then the enterprise revokes "a"
        feed.add(auth(f"authorizations/f{i}", requester="platforms/other"))
    revoked = feed.add(auth("authorizations/a", pb.AUTHORIZATION_STATE_REVOKED))
    clock.now += 3  # the cut-off replica's lease lapses
    hub.wait_enforced(revoked)  # Revoke returns to the enterprise
    with pytest.raises(ConsentUnavailable):
        cache.decide(R, E, P, frozenset({ITEM}))

    s2 = hub.open("r1")  # it reconnects and resumes from its revision, 1500 changes behind
    resumed = hub.messages(s2, cache.resume_from())
    while cache.revision < revoked:
        pump(hub, s2, resumed, cache)
        if cache.revision < revoked:  # still behind the revocation: it must still fail closed
            with pytest.raises(ConsentUnavailable):
                cache.decide(R, E, P, frozenset({ITEM}))
    clock.now += 0.3
    pump(hub, s2, resumed, cache)  # caught up: the next heartbeat confirms its acknowledgement
    assert not cache.decide(R, E, P, frozenset({ITEM})).allowed
    assert cache.live()


def test_a_listing_broken_part_way_is_started_again(world: Any) -> None:
    clock, feed, hub, cache = world
    for i in range(700):  # more than one response of live authorizations
        feed.add(auth(f"authorizations/l{i}"))
    hub._pull()
    s1 = hub.open("r1")
    pump(hub, s1, hub.messages(s1, 0), cache)  # the reset and the first 500
    hub.disconnect(s1)  # broken before the listing completes
    assert cache.resume_from() == 0
    s2 = hub.open("r1")
    again = hub.messages(s2, cache.resume_from())
    for _ in range(3):
        pump(hub, s2, again, cache)
        clock.now += 0.3
    assert cache.live()
    assert cache.decide(R, E, P, frozenset({ITEM})).allowed
