"""Check's candidate cache: a fill that raced a writer is never kept, and writes drop what they change."""

from __future__ import annotations

from typing import Any

from services.consent.store.check_cache import CachedCandidates, CandidateCache

KEY = ("platforms/xian", "91610131MA6TXXXX1U", "PRE_LOAN")
OTHER = ("platforms/xian", "91610131MA6TXXXX1U", "IN_LOAN")
OLD: Any = "old state"  # stands for an Authorization: the cache never looks inside
NEW: Any = "new state"


def test_a_fill_is_kept_and_served() -> None:
    cache = CandidateCache()
    cache.fill(KEY, [OLD], cache.start_fill(KEY))
    assert cache.get(KEY) == (OLD,)


def test_a_fill_that_read_before_a_write_was_marked_is_refused() -> None:
    cache = CandidateCache()
    token = cache.start_fill(KEY)  # the reader starts reading the old state...
    cache.mark(KEY)  # ...a writer changes the key...
    cache.release([KEY])  # ...and commits before the reader stores what it read
    cache.fill(KEY, [OLD], token)
    assert cache.get(KEY) is None
    cache.fill(KEY, [NEW], cache.start_fill(KEY))  # a reader that started after the commit may fill
    assert cache.get(KEY) == (NEW,)


def test_no_fill_while_a_writer_holds_the_key() -> None:
    cache = CandidateCache()
    cache.mark(KEY)
    assert cache.start_fill(KEY) is None
    cache.fill(KEY, [OLD], cache.start_fill(KEY))
    assert cache.get(KEY) is None
    cache.mark(KEY)  # two writers on one key: fills wait for both
    cache.release([KEY])
    assert cache.start_fill(KEY) is None
    cache.release([KEY])
    assert cache.start_fill(KEY) is not None


def test_marks_and_drops_remove_only_their_key() -> None:
    cache = CandidateCache()
    for key in (KEY, OTHER):
        cache.fill(key, [OLD], cache.start_fill(key))
    cache.mark(KEY)
    assert cache.get(KEY) is None
    assert cache.get(OTHER) == (OLD,)
    cache.release([KEY])
    cache.drop(OTHER)
    assert cache.get(OTHER) is None


def test_a_write_on_another_key_does_not_refuse_a_fill() -> None:
    cache = CandidateCache()
    token = cache.start_fill(KEY)
    cache.mark(OTHER)
    cache.release([OTHER])
    cache.fill(KEY, [OLD], token)
    assert cache.get(KEY) == (OLD,)


def test_forgetting_old_marks_refuses_fills_that_started_before() -> None:
    import services.consent.store.check_cache as module

    cache = CandidateCache()
    token = cache.start_fill(KEY)
    cache.drop(KEY)
    saved = module.MAX_DIRTY
    module.MAX_DIRTY = 2
    try:
        for i in range(3):  # enough marks elsewhere to forget the one on KEY
            cache.drop(("r", str(i), "p"))
    finally:
        module.MAX_DIRTY = saved
    cache.fill(KEY, [OLD], token)
    assert cache.get(KEY) is None


def test_the_oldest_fill_goes_when_full() -> None:
    cache = CandidateCache(max_keys=2)
    keys = [("r", str(i), "p") for i in range(3)]
    for key in keys:
        cache.fill(key, [OLD], cache.start_fill(key))
    assert cache.get(keys[0]) is None
    assert cache.get(keys[1]) == (OLD,)
    assert cache.get(keys[2]) == (OLD,)


def test_lookup_reads_the_database_once_then_serves_from_memory() -> None:
    reads: list[tuple[str, str, str]] = []

    def read(key: tuple[str, str, str]) -> list[Any]:
        reads.append(key)
        return [OLD]

    lookup = CachedCandidates(CandidateCache(), read)
    assert lookup.candidates(*KEY) == (OLD,)
    assert lookup.candidates(*KEY) == (OLD,)
    assert reads == [KEY]
