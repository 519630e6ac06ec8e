"""The consent cache follows the no-stale-window protocol: lease from confirmed acks, fail closed otherwise."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from creditnode.consent.v1 import consent_service_pb2 as pb
from services.gateway.clients.consent import ConsentCache, ConsentUnavailable

E, R, P = "enterprises/x", "platforms/xian", "PRE_LOAN"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def ts(at: datetime) -> Timestamp:
    t = Timestamp()
    t.FromDatetime(at)
    return t


def auth(
    name: str, state: int = pb.AUTHORIZATION_STATE_ACTIVE, items: tuple[str, ...] = ("TAX_PAYMENT",), **kw: object
) -> pb.Authorization:
    now = datetime.now(UTC)
    return pb.Authorization(
        name=name,
        enterprise=E,
        requester=R,
        purpose=P,
        covered_items=list(items),
        valid_from=ts(kw.get("valid_from", now - timedelta(hours=1))),  # type: ignore[arg-type]
        valid_until=ts(kw.get("valid_until", now + timedelta(hours=1))),  # type: ignore[arg-type]
        data_since=ts(now - timedelta(days=365)),
        state=state,  # type: ignore[arg-type]
    )


def response(
    *auths: pb.Authorization, revision: int, acknowledged: int = 0, reset: bool = False, done: bool = False
) -> pb.WatchAuthorizationsResponse:
    return pb.WatchAuthorizationsResponse(
        events=[pb.AuthorizationEvent(authorization=a) for a in auths],
        revision=revision,
        acknowledged=acknowledged,
        reset=reset,
        snapshot_complete=done,
        lease=Duration(seconds=2),
    )


@pytest.fixture
def cache() -> tuple[ConsentCache, Clock]:
    clock = Clock()
    return ConsentCache(grpc.insecure_channel("127.0.0.1:9"), "r1", clock=clock), clock


def serving(cache: ConsentCache, clock: Clock, *auths: pb.Authorization) -> None:
    cache._apply(response(*auths, revision=1, reset=True, done=True))
    cache._apply(response(revision=1, acknowledged=1))


def test_no_lease_before_the_first_confirmed_ack(cache: tuple[ConsentCache, Clock]) -> None:
    c, _clock = cache
    c._apply(response(auth("authorizations/a"), revision=1, reset=True, done=True))
    with pytest.raises(ConsentUnavailable):
        c.decide(R, E, P, frozenset({"TAX_PAYMENT"}))
    c._apply(response(revision=1, acknowledged=1))
    assert c.decide(R, E, P, frozenset({"TAX_PAYMENT"})).allowed


def test_lease_lapses_and_the_cache_fails_closed(cache: tuple[ConsentCache, Clock]) -> None:
    c, clock = cache
    serving(c, clock, auth("authorizations/a"))
    clock.now += 1.99
    assert c.live()
    clock.now += 0.02
    assert not c.live()
    with pytest.raises(ConsentUnavailable):
        c.decide(R, E, P, frozenset({"TAX_PAYMENT"}))


def test_readiness_waits_for_the_first_lease_and_outlives_a_lapsed_one(cache: tuple[ConsentCache, Clock]) -> None:
    c, clock = cache
    c._apply(response(auth("authorizations/a"), revision=1, reset=True, done=True))
    assert not c.has_been_live()  # listed, but no lease yet: a new replica must not take traffic
    c._apply(response(revision=1, acknowledged=1))
    assert c.has_been_live()
    clock.now += 10
    assert not c.live()
    assert c.has_been_live()  # consent gone: decisions fail closed, the replica stays in its Service


def test_listing_in_progress_fails_closed(cache: tuple[ConsentCache, Clock]) -> None:
    c, clock = cache
    serving(c, clock, auth("authorizations/a"))
    c._apply(response(revision=5, reset=True))  # a new listing started
    with pytest.raises(ConsentUnavailable):
        c.decide(R, E, P, frozenset({"TAX_PAYMENT"}))


@pytest.mark.parametrize(
    ("state", "kw", "items", "reason"),
    [
        (pb.AUTHORIZATION_STATE_PAUSED, {}, ("TAX_PAYMENT",), pb.DECISION_REASON_PAUSED),
        (pb.AUTHORIZATION_STATE_REVOKED, {}, ("TAX_PAYMENT",), pb.DECISION_REASON_NO_AUTHORIZATION),
        (pb.AUTHORIZATION_STATE_EXPIRED, {}, ("TAX_PAYMENT",), pb.DECISION_REASON_NO_AUTHORIZATION),
        (
            pb.AUTHORIZATION_STATE_ACTIVE,
            {"valid_until": datetime.now(UTC) - timedelta(seconds=1)},
            ("TAX_PAYMENT",),
            pb.DECISION_REASON_EXPIRED,
        ),
        (
            pb.AUTHORIZATION_STATE_ACTIVE,
            {
                "valid_from": datetime.now(UTC) + timedelta(hours=1),
                "valid_until": datetime.now(UTC) + timedelta(days=1),
            },
            ("TAX_PAYMENT",),
            pb.DECISION_REASON_NOT_YET_VALID,
        ),
        (pb.AUTHORIZATION_STATE_ACTIVE, {}, ("SI_HEADCOUNT",), pb.DECISION_REASON_OUT_OF_SCOPE),
    ],
)
def test_denials_from_memory(
    cache: tuple[ConsentCache, Clock], state: int, kw: dict[str, datetime], items: tuple[str, ...], reason: int
) -> None:
    c, clock = cache
    serving(c, clock, auth("authorizations/a", state, items, **kw))
    decision = c.decide(R, E, P, frozenset({"TAX_PAYMENT"}))
    assert not decision.allowed
    assert decision.reason == reason


def test_a_revocation_applied_is_seen_by_the_next_decision(cache: tuple[ConsentCache, Clock]) -> None:
    c, clock = cache
    serving(c, clock, auth("authorizations/a"))
    assert c.decide(R, E, P, frozenset({"TAX_PAYMENT"})).allowed
    c._apply(response(auth("authorizations/a", pb.AUTHORIZATION_STATE_REVOKED), revision=2, acknowledged=2))
    assert not c.decide(R, E, P, frozenset({"TAX_PAYMENT"})).allowed
    # Other requester, enterprise or purpose: never.
    assert not c.decide("institutions/boc", E, P, frozenset({"TAX_PAYMENT"})).allowed


def test_the_authorization_covering_most_items_is_chosen(cache: tuple[ConsentCache, Clock]) -> None:
    c, clock = cache
    serving(
        c,
        clock,
        auth("authorizations/a", items=("TAX_PAYMENT",)),
        auth("authorizations/b", items=("TAX_PAYMENT", "TAX_INVOICE")),
    )
    d = c.decide(R, E, P, frozenset({"TAX_PAYMENT", "TAX_INVOICE"}))
    assert (d.allowed, d.authorization, d.covered) == (
        True,
        "authorizations/b",
        frozenset({"TAX_PAYMENT", "TAX_INVOICE"}),
    )


def test_a_decision_carries_the_items_the_enterprise_named(cache: tuple[ConsentCache, Clock]) -> None:
    c, clock = cache
    by_category = auth("authorizations/a", items=("TAX_INVOICE", "TAX_PAYMENT"))
    by_category.categories.append("TAX")
    by_category.items.append("TAX_PAYMENT")
    serving(c, clock, by_category)
    decision = c.decide(R, E, P, frozenset({"TAX_INVOICE"}))
    assert decision.allowed
    assert (decision.covered, decision.named) == (frozenset({"TAX_INVOICE", "TAX_PAYMENT"}), frozenset({"TAX_PAYMENT"}))


class _FailsOnceUnexpectedly:
    """The first stream fails with an error that is not gRPC's (a bug, a malformed message); the next one lists."""

    def __init__(self) -> None:
        self.calls = 0
        self.settled, self.done = threading.Event(), threading.Event()

    def WatchAuthorizations(self, requests: Iterator[pb.WatchAuthorizationsRequest]) -> object:
        next(requests)
        self.calls += 1
        return self._stream(self.calls)

    def _stream(self, call: int) -> Iterator[pb.WatchAuthorizationsResponse]:
        if call == 1:
            raise RuntimeError("not a gRPC error")
        yield response(auth("authorizations/a"), revision=1, reset=True, done=True)
        yield response(revision=1, acknowledged=1)
        self.settled.set()  # the confirming response was taken, so applied
        self.done.wait(10)


def test_an_error_that_is_not_grpcs_is_followed_by_a_new_stream() -> None:
    # The watch thread caught only gRPC's errors: any other ended it, and the replica stayed failed closed for good.
    consent = _FailsOnceUnexpectedly()
    cache = ConsentCache(grpc.insecure_channel("127.0.0.1:9"), "r1", reconnect_seconds=0.01)
    cache._stub = consent  # type: ignore[assignment]
    cache.start()
    try:
        assert consent.settled.wait(10)
        assert consent.calls == 2
        assert cache.live()
    finally:
        consent.done.set()
        cache.close()
