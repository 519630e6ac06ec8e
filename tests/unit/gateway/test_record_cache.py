"""The gateway's record cache: only while the watch is live, never older than a change the watch has shown."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from creditnode.registry.v1 import records_pb2 as rec
from services.gateway.clients.record_cache import RecordCache

ALICE, BOB = "916100000000000114", "916100000000000122"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Registry:
    """Answers listings at a revision the test sets, counting the reads."""

    def __init__(self) -> None:
        self.revision = 10
        self.reads = 0
        self.publicity_known = True

    def __call__(self, uscc: str, items: list[str]) -> tuple[list[rec.CreditRecord], int, bool]:
        self.reads += 1
        records = [rec.CreditRecord(uscc=uscc, item_code=i, version=self.reads) for i in items]
        return records, self.revision, self.publicity_known


@pytest.fixture
def world() -> tuple[RecordCache, Registry, Clock]:
    registry, clock = Registry(), Clock()
    cache = RecordCache(grpc.insecure_channel("127.0.0.1:9"), registry, lease_seconds=5, clock=clock)
    return cache, registry, clock


def watch(revision: int, *changes: tuple[str, int]) -> Any:
    return rec.WatchRecordChangesResponse(
        revision=revision,
        changes=[rec.RecordChange(revision=r, record=rec.CreditRecord(uscc=u)) for u, r in changes],
    )


def test_nothing_is_served_from_memory_before_the_watch_is_live(world: Any) -> None:
    cache, registry, _ = world
    cache.records(ALICE, ["TAX_PAYMENT"])
    cache.records(ALICE, ["TAX_PAYMENT"])
    assert registry.reads == 2


def test_a_listing_is_served_until_the_watch_shows_a_change_of_that_enterprise(world: Any) -> None:
    cache, registry, _ = world
    cache.apply(watch(10), first=True)
    first = cache.records(ALICE, ["TAX_PAYMENT", "REG_BASIC"])
    assert cache.records(ALICE, ["REG_BASIC", "TAX_PAYMENT"]) == first  # same items in any order: one entry
    cache.records(BOB, ["TAX_PAYMENT"])
    assert registry.reads == 2
    cache.apply(watch(11, (BOB, 11)), first=False)
    registry.revision = 11
    assert cache.records(ALICE, ["TAX_PAYMENT", "REG_BASIC"]) == first  # Bob's change leaves Alice's listing
    cache.records(BOB, ["TAX_PAYMENT"])
    assert registry.reads == 3


def test_a_listing_older_than_a_change_already_seen_is_not_kept(world: Any) -> None:
    cache, registry, _ = world
    cache.apply(watch(10), first=True)
    cache.apply(watch(12, (ALICE, 12)), first=False)
    registry.revision = 11  # e.g. read on a lagging connection, before the change the watch already showed
    cache.records(ALICE, ["TAX_PAYMENT"])
    cache.records(ALICE, ["TAX_PAYMENT"])
    assert registry.reads == 2
    registry.revision = 12
    cache.records(ALICE, ["TAX_PAYMENT"])
    cache.records(ALICE, ["TAX_PAYMENT"])
    assert registry.reads == 3


def test_a_listing_from_before_the_watch_started_is_not_kept(world: Any) -> None:
    cache, registry, _ = world
    cache.apply(watch(10), first=True)
    registry.revision = 9  # changes between 9 and 10 would never be shown by this watch
    cache.records(ALICE, ["TAX_PAYMENT"])
    cache.records(ALICE, ["TAX_PAYMENT"])
    assert registry.reads == 2


def test_a_silent_or_broken_watch_sends_every_read_to_the_registry(world: Any) -> None:
    cache, registry, clock = world
    cache.apply(watch(10), first=True)
    cache.records(ALICE, ["TAX_PAYMENT"])
    clock.now += 6  # past the lease without a heartbeat
    cache.records(ALICE, ["TAX_PAYMENT"])
    assert registry.reads == 2
    # A heartbeat on the same stream: live again, and the stream would have shown any change before it.
    cache.apply(watch(10), first=False)
    cache.records(ALICE, ["TAX_PAYMENT"])
    assert registry.reads == 2
    cache.disconnected()
    cache.records(ALICE, ["TAX_PAYMENT"])
    assert registry.reads == 3


def test_a_reconnected_watch_starts_with_an_empty_cache(world: Any) -> None:
    cache, registry, _ = world
    cache.apply(watch(10), first=True)
    cache.records(ALICE, ["TAX_PAYMENT"])
    cache.disconnected()
    cache.apply(watch(15), first=True)  # what changed in between is unknown
    registry.revision = 15
    cache.records(ALICE, ["TAX_PAYMENT"])
    assert registry.reads == 2


def test_the_cache_stays_within_its_size(world: Any) -> None:
    _, registry, clock = world
    cache = RecordCache(grpc.insecure_channel("127.0.0.1:9"), registry, max_records=3, clock=clock)
    cache.apply(watch(10), first=True)
    cache.records(ALICE, ["TAX_PAYMENT"])  # 1 record
    cache.records(BOB, ["TAX_PAYMENT", "REG_BASIC"])  # 2 records: full
    cache.records(BOB, ["TAX_PAYMENT", "REG_BASIC"])
    assert registry.reads == 2
    cache.records("916100000000000130", ["TAX_PAYMENT"])  # Alice's listing, the oldest, makes room
    cache.records(BOB, ["TAX_PAYMENT", "REG_BASIC"])
    assert registry.reads == 3
    cache.records(ALICE, ["TAX_PAYMENT"])
    assert registry.reads == 4
    cache.records(ALICE, ["A", "B", "C", "D"])  # more than the whole cache holds: never kept
    cache.records(ALICE, ["A", "B", "C", "D"])
    assert registry.reads == 6


def test_held_answers_from_memory_only_and_only_while_the_watch_is_live(world: Any) -> None:
    cache, registry, clock = world
    cache.apply(watch(10), first=True)
    assert cache.held(ALICE, ["TAX_PAYMENT"]) is None  # not listed yet: held never reads the registry
    assert registry.reads == 0
    listed = cache.records(ALICE, ["TAX_PAYMENT"])
    assert cache.held(ALICE, ["TAX_PAYMENT"]) == listed
    cache.apply(watch(11, (ALICE, 11)), first=False)
    assert cache.held(ALICE, ["TAX_PAYMENT"]) is None  # a change of that enterprise drops it
    registry.revision = 11
    cache.records(ALICE, ["TAX_PAYMENT"])
    clock.now += 6  # the watch was not heard from within the lease
    assert cache.held(ALICE, ["TAX_PAYMENT"]) is None
    assert registry.reads == 2


def test_a_listing_from_a_registry_that_sends_no_publicity_ends_is_not_kept(world: Any) -> None:
    # A registry of the previous release (a rolling upgrade) sends no publicity_end_time: kept, its penalties past
    # their publicity period would leave from memory until the enterprise next changed, long after the upgrade.
    cache, registry, _ = world
    cache.apply(watch(10), first=True)
    registry.publicity_known = False
    cache.records(ALICE, ["AMR_PENALTY"])
    cache.records(ALICE, ["AMR_PENALTY"])
    assert registry.reads == 2
    registry.publicity_known = True  # the registry upgraded
    cache.records(ALICE, ["AMR_PENALTY"])
    cache.records(ALICE, ["AMR_PENALTY"])
    assert registry.reads == 3
