"""The consent use cases on the real store (SQLite, or PostgreSQL when configured): persistence, history, uses."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from creditnode.consent.v1 import consent_service_pb2 as pb
from services.consent.api import convert
from services.consent.clients.files import load_purposes
from services.consent.domain.model import DecisionReason, EventType, State
from services.consent.domain.ports import Use
from services.consent.domain.signing import Action
from services.consent.main import MIGRATIONS
from services.consent.store.check_cache import CandidateCache
from services.consent.store.models import evidence_models
from services.consent.store.repositories import (
    SqlAuthorizations,
    SqlChangeFeed,
    cached_candidates,
    unit_of_work_factories,
)
from services.consent.usecases import CheckQuery, Consent
from services.kit.db import make_engine, migrate, session_factories, writer_gate
from services.kit.errors import DomainError
from services.kit.evidence.entries import LeafKind
from services.kit.evidence.heads import NodeKey
from services.kit.evidence.log import EvidenceLog
from services.kit.evidence.receipts import verify_receipt
from services.kit.evidence.store import LeafFilter
from tests.conftest import PG_URL
from tests.consent_support.fakes import FakeRegistry, FakeSharingList, RecordingBarrier
from tests.consent_support.signing import Enterprise, make_uscc, now_s

PURPOSES = MIGRATIONS.parent / "data" / "purposes.yaml"
BANK = "institutions/boc-xian"


class Clock:
    def __init__(self) -> None:
        self.at = now_s()

    def __call__(self) -> Any:
        return self.at


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url, pool_size=12)
    migrate(engine, MIGRATIONS, "alembic_version_consent")
    yield engine
    engine.dispose()


@pytest.fixture
def world(engine: Engine) -> Iterator[Any]:
    class W:
        pass

    w: Any = W()
    writer_s, reader_s = session_factories(engine)
    w.evidence = EvidenceLog(engine, evidence_models, origin="creditnode/consent", key=NodeKey.generate()).start()
    w.cache = CandidateCache()  # as deployed: non-consuming checks go through the cache
    writer, reader = unit_of_work_factories(writer_s, reader_s, w.evidence, w.cache)
    w.clock = Clock()
    w.registry = FakeRegistry()
    w.alice, w.bob = Enterprise(make_uscc(11)), Enterprise(make_uscc(12))
    w.registry.add_enterprise(w.alice)
    w.registry.add_enterprise(w.bob)
    w.registry.add_requester(BANK)
    w.feed = SqlChangeFeed(reader_s)
    w.barrier = RecordingBarrier()

    def start() -> Consent:
        """The use cases as a (new) process starts them over this database."""
        return Consent(
            writer=writer,
            reader=reader,
            registry=w.registry,
            sharing=FakeSharingList(),
            purposes=load_purposes(PURPOSES),
            barrier=w.barrier,
            clock=w.clock,
            lookup=cached_candidates(reader, w.cache),
        )

    w.start = start
    w.consent = start()
    yield w
    w.evidence.close()


def check(w: Any, who: Enterprise, **kw: Any) -> Any:
    return w.consent.check(CheckQuery(BANK, who.uscc, "PRE_LOAN", kw.pop("items", ("TAX_PAYMENT",)), **kw))


def test_lifecycle_history_and_receipts_survive_in_the_store(world: Any) -> None:
    w = world
    grant = w.consent.grant(convert.grant_request(w.alice.grant(BANK, categories=("TAX",), items=("TAX_INVOICE",))))
    name = grant.authorization.name
    w.consent.change(convert.lifecycle_request(Action.PAUSE, w.alice.pause(name)))
    assert check(w, w.alice).reason is DecisionReason.PAUSED
    w.consent.change(convert.lifecycle_request(Action.RESUME, w.alice.resume(name)))
    w.consent.change(convert.lifecycle_request(Action.REVOKE, w.alice.revoke(name)))
    stored = w.consent.get(grant.authorization.id)
    assert stored.state is State.REVOKED
    assert stored.covered_items == {"TAX_CREDIT_GRADE", "TAX_PAYMENT", "TAX_INVOICE"}
    assert stored.valid_until == grant.authorization.valid_until
    events = w.consent.list_events(stored.id, None, 2)
    assert [e.event_type for e in events.items] == [EventType.GRANTED, EventType.PAUSED]
    rest = w.consent.list_events(stored.id, events.next_after, 10)
    assert [e.event_type for e in rest.items] == [EventType.RESUMED, EventType.REVOKED]
    chain = [e.receipt for e in events.items + rest.items]
    assert chain[0].signed_payload == grant.receipt.signed_payload
    assert all(b.previous_digest == a.digest for a, b in itertools.pairwise(chain))
    assert stored.last_receipt_digest == chain[-1].digest
    # Every receipt has its CONSENT_EVENT leaf, committed with it, that a receipt proves offline.
    leaves = w.evidence.list_leaves(LeafFilter(kind=LeafKind.CONSENT_EVENT), None, 100)
    payloads = [json.loads(leaf.entry_json)["payload"] for leaf in leaves]
    assert payloads == [r.evidence_payload() for r in chain]
    keys = {k.key_id: k.public_key for k in w.evidence.public_keys()}
    for leaf in leaves:
        w.evidence.signed_tree_head(fresh=True)
        verify_receipt(w.evidence.receipt(leaf.index).to_obj(), keys, origin="creditnode/consent")
    assert w.evidence.verify().problems == []


def test_replay_is_answered_from_the_stored_nonce(world: Any) -> None:
    w = world
    req = w.alice.grant(BANK)
    first = w.consent.grant(convert.grant_request(req))
    again = w.consent.grant(convert.grant_request(req))
    assert again.receipt.digest == first.receipt.digest
    assert len(w.feed.changes_after(0, 100)) == 1


def test_one_time_authorization_serves_exactly_once_under_concurrent_checks(world: Any) -> None:
    w = world
    w.consent.grant(convert.grant_request(w.alice.grant(BANK, kind=pb.USE_LIMIT_KIND_ONE_TIME, max_uses=1)))
    results: list[DecisionReason] = []
    barrier = threading.Barrier(8)

    def consume() -> None:
        barrier.wait()
        results.append(check(w, w.alice, consume=True).reason)

    threads = [threading.Thread(target=consume) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results).count(DecisionReason.AUTHORIZED) == 1
    assert results.count(DecisionReason.USE_LIMIT_REACHED) == 7


def test_cached_checks_follow_every_write_at_once(world: Any) -> None:
    w = world
    grant = w.consent.grant(convert.grant_request(w.alice.grant(BANK, kind=pb.USE_LIMIT_KIND_MAX_USES, max_uses=2)))
    name = grant.authorization.name
    key = (BANK, w.alice.uscc, "PRE_LOAN")
    assert check(w, w.alice).reason is DecisionReason.AUTHORIZED
    assert w.cache.get(key) is not None  # the second check onwards is answered from memory
    allowed, spent = DecisionReason.AUTHORIZED, DecisionReason.USE_LIMIT_REACHED
    for used, after in ((allowed, allowed), (allowed, spent), (spent, spent)):
        assert check(w, w.alice, consume=True).reason is used
        assert check(w, w.alice).reason is after
    w.consent.grant(convert.grant_request(w.alice.grant(BANK)))  # a second grant under the same key
    assert check(w, w.alice).reason is DecisionReason.AUTHORIZED
    w.consent.change(convert.lifecycle_request(Action.PAUSE, w.alice.pause(name)))
    assert check(w, w.alice).reason is DecisionReason.AUTHORIZED  # the new grant still allows
    assert check(w, w.alice).authorization.name != name


def test_no_cached_allow_survives_a_revoke_racing_readers(world: Any) -> None:
    w = world
    name = w.consent.grant(convert.grant_request(w.alice.grant(BANK))).authorization.name
    revoked = threading.Event()
    late_allows: list[int] = []
    stop = threading.Event()
    progress = threading.Condition()
    checks = [[0, 0] for _ in range(4)]  # per reader: checks done, and those of them begun after the revoke returned

    def read(i: int) -> None:
        while not stop.is_set():
            after = revoked.is_set()  # taken before the check starts
            if check(w, w.alice).allowed and after:
                late_allows.append(1)
            with progress:
                checks[i][0] += 1
                checks[i][1] += after
                progress.notify_all()

    def until(ready: Any, what: str) -> None:
        with progress:
            assert progress.wait_for(ready, timeout=60), what

    readers = [threading.Thread(target=read, args=(i,)) for i in range(4)]
    for t in readers:
        t.start()
    try:
        # Every reader is under way and the key is answered from memory before the revoke.
        until(lambda: min(c[0] for c in checks) >= 1 and w.cache.get((BANK, w.alice.uscc, "PRE_LOAN")), "no reads")
        w.consent.change(convert.lifecycle_request(Action.REVOKE, w.alice.revoke(name)))
        revoked.set()
        # Counted, not timed: a loaded machine must not leave the readers without checks after the revoke.
        until(lambda: min(c[1] for c in checks) >= 20, "readers made too few checks after the revoke")
    finally:
        stop.set()
        for t in readers:
            t.join()
    assert late_allows == []
    assert check(w, w.alice).reason is DecisionReason.REVOKED


def test_frequency_counter_resets_in_the_next_period_in_the_store(world: Any) -> None:
    w = world
    req = w.alice.grant(
        BANK, purpose="POST_LOAN_MONITORING", kind=pb.USE_LIMIT_KIND_FREQUENCY, max_uses=1, period_days=1
    )
    auth = w.consent.grant(convert.grant_request(req)).authorization

    def use() -> bool:
        q = CheckQuery(BANK, w.alice.uscc, "POST_LOAN_MONITORING", ("TAX_PAYMENT",), consume=True)
        return bool(w.consent.check(q).allowed)

    assert [use(), use()] == [True, False]
    w.clock.at += timedelta(days=1)
    assert [use(), use()] == [True, False]
    assert w.consent.get(auth.id).uses.total == 2


def test_a_frequency_use_reaching_the_row_after_a_newer_periods_use_is_refused(world: Any) -> None:
    """The use time is read before the row is locked: a use stamped just before the boundary can commit after one
    stamped just after. Counting it as a fresh period 0 would give period 0 and then period 1 a second use."""
    w = world
    req = w.alice.grant(
        BANK, purpose="POST_LOAN_MONITORING", kind=pb.USE_LIMIT_KIND_FREQUENCY, max_uses=1, period_days=1
    )
    auth = w.consent.grant(convert.grant_request(req)).authorization
    boundary = auth.valid_from + timedelta(days=1)

    def use(at: Any) -> DecisionReason:
        w.clock.at = at
        q = CheckQuery(BANK, w.alice.uscc, "POST_LOAN_MONITORING", ("TAX_PAYMENT",), consume=True)
        return w.consent.check(q).reason  # type: ignore[no-any-return]

    allowed, refused = DecisionReason.AUTHORIZED, DecisionReason.USE_LIMIT_REACHED
    assert use(boundary - timedelta(hours=12)) is allowed  # period 0
    assert use(boundary + timedelta(milliseconds=100)) is allowed  # period 1
    assert use(boundary - timedelta(milliseconds=100)) is refused  # period 0, late
    assert use(boundary + timedelta(seconds=5)) is refused  # period 1 again
    uses = w.consent.get(auth.id).uses
    assert (uses.total, uses.period_index, uses.in_period) == (2, 1, 1)


@pytest.mark.parametrize(
    "kind", [pb.USE_LIMIT_KIND_ONE_TIME, pb.USE_LIMIT_KIND_FREQUENCY], ids=["one_time", "frequency"]
)
def test_the_stores_use_update_refuses_a_use_past_the_limit_read_before_another_use_committed(
    world: Any, kind: int
) -> None:
    """The use cases decide from a row read before it is locked; on PostgreSQL another replica's use may commit in
    between, and only the conditional update's own limit stands between the two and a second use of one allowed."""
    w = world
    extra = {"purpose": "POST_LOAN_MONITORING", "period_days": 1} if kind == pb.USE_LIMIT_KIND_FREQUENCY else {}
    auth = w.consent.grant(convert.grant_request(w.alice.grant(BANK, kind=kind, max_uses=1, **extra))).authorization
    stale = w.consent.get(auth.id)  # read while its use was still left
    purpose = extra.get("purpose", "PRE_LOAN")
    assert w.consent.check(CheckQuery(BANK, w.alice.uscc, purpose, ("TAX_PAYMENT",), consume=True)).allowed
    assert stale.uses.total == 0
    with w.consent._writer() as uow:
        assert not uow.authorizations.record_use(stale, Use(auth.id, w.clock.at, ("TAX_PAYMENT",), "late-replica"))
        uow.commit()
    uses = w.consent.get(auth.id).uses
    assert (uses.total, uses.in_period) == (1, 1)
    assert [u.request_id for u in w.consent.list_uses(auth.id, None, 10).items] == [""]


def test_consuming_retry_is_idempotent_by_request_id(world: Any) -> None:
    w = world
    auth = w.consent.grant(convert.grant_request(w.alice.grant(BANK, max_uses=3))).authorization
    for _ in range(3):
        assert check(w, w.alice, consume=True, request_id="disclosure-1").allowed
    assert w.consent.get(auth.id).uses.total == 1
    assert [u.request_id for u in w.consent.list_uses(auth.id, None, 10).items] == ["disclosure-1"]


def _a_use_commits_while_the_next_writer_waits(w: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The next writer the use cases open first lets a second pass and a consuming check commit a use: as when that
    check holds the writer lock (SQLite) or the row (PostgreSQL) the command then waits for."""
    opened = w.consent._writer
    waited: list[bool] = []

    def writer() -> Any:
        if not waited:
            waited.append(True)
            w.clock.at += timedelta(seconds=1)
            assert check(w, w.alice, consume=True).allowed
        return opened()

    monkeypatch.setattr(w.consent, "_writer", writer)


@pytest.mark.parametrize("action", [Action.PAUSE, Action.REVOKE])
def test_a_pause_or_revocation_is_recorded_no_earlier_than_a_use_committed_while_it_waited(
    world: Any, monkeypatch: pytest.MonkeyPatch, action: Action
) -> None:
    """Stamped before it got the lock, the receipt would say the authorization stopped before a use it let through:
    the history would show a release after the pause or revocation."""
    w = world
    auth = w.consent.grant(convert.grant_request(w.alice.grant(BANK, max_uses=3))).authorization
    _a_use_commits_while_the_next_writer_waits(w, monkeypatch)
    sign = w.alice.pause if action is Action.PAUSE else w.alice.revoke
    outcome = w.consent.change(convert.lifecycle_request(action, sign(auth.name)))
    (use,) = w.consent.list_uses(auth.id, None, 10).items
    assert outcome.receipt.recorded_at >= use.used_at
    assert w.consent.list_events(auth.id, None, 10).items[-1].receipt.recorded_at >= use.used_at


def test_a_requesters_revocation_is_recorded_no_earlier_than_a_use_committed_while_it_waited(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = world
    auth = w.consent.grant(convert.grant_request(w.alice.grant(BANK, max_uses=3))).authorization
    _a_use_commits_while_the_next_writer_waits(w, monkeypatch)
    assert w.consent.revoke_for_requester(BANK) == 1
    (use,) = w.consent.list_uses(auth.id, None, 10).items
    (*_, revoked) = w.consent.list_events(auth.id, None, 10).items
    assert revoked.event_type is EventType.REVOKED_REQUESTER_REMOVED
    assert revoked.receipt.recorded_at >= use.used_at


def test_a_retry_recorded_by_another_process_is_found_in_the_store(world: Any) -> None:
    """Retries of this process's uses are answered from memory; the store still answers for the others."""
    w = world
    w.consent.grant(convert.grant_request(w.alice.grant(BANK, max_uses=2)))
    assert check(w, w.alice, consume=True, request_id="disclosure-1").allowed
    other = Consent(  # a second process: same store, nothing in memory
        writer=w.consent._writer,
        reader=w.consent._reader,
        registry=w.registry,
        sharing=FakeSharingList(),
        purposes=load_purposes(PURPOSES),
        barrier=RecordingBarrier(),
        clock=w.clock,
    )
    retry = CheckQuery(BANK, w.alice.uscc, "PRE_LOAN", ("TAX_PAYMENT",), consume=True, request_id="disclosure-1")
    assert other.check(retry).allowed
    assert check(w, w.alice, consume=True, request_id="disclosure-2").allowed
    assert check(w, w.alice, consume=True, request_id="disclosure-3").reason is DecisionReason.USE_LIMIT_REACHED
    assert other.check(retry).allowed
    assert check(w, w.alice, consume=True, request_id="disclosure-1").allowed


def test_change_feed_lists_changes_in_revision_order_with_the_state_of_each(world: Any) -> None:
    w = world
    a = w.consent.grant(convert.grant_request(w.alice.grant(BANK))).authorization
    w.consent.change(convert.lifecycle_request(Action.PAUSE, w.alice.pause(a.name)))
    b = w.consent.grant(convert.grant_request(w.bob.grant(BANK))).authorization
    changes = w.feed.changes_after(0, 100)
    assert [(e.revision, auth.id, auth.state) for e, auth in changes] == [
        (1, a.id, State.ACTIVE),
        (2, a.id, State.PAUSED),
        (3, b.id, State.ACTIVE),
    ]
    assert w.feed.current_revision() == 3
    assert [e.revision for e, _ in w.feed.changes_after(2, 100)] == [3]
    assert {x.id for x in w.feed.live_authorizations()} == {a.id, b.id}


def test_enterprise_pages_through_its_authorizations_newest_first(world: Any) -> None:
    w = world
    made = []
    for _i in range(3):
        w.clock.at += timedelta(seconds=1)
        made.append(w.consent.grant(convert.grant_request(w.alice.grant(BANK, signed_at=w.clock.at))).authorization)
    w.consent.grant(convert.grant_request(w.bob.grant(BANK, signed_at=w.clock.at)))
    first = w.consent.list_authorizations(w.alice.uscc, None, None, None, 2)
    second = w.consent.list_authorizations(w.alice.uscc, None, None, first.next_after, 2)
    assert [a.id for a in first.items + second.items] == [m.id for m in reversed(made)]
    assert second.next_after is None
    revoked = w.consent.list_authorizations(w.alice.uscc, BANK, State.REVOKED, None, 10)
    assert revoked.items == []


def test_expiry_sweep_and_nonce_purge(world: Any, tmp_path: Path) -> None:
    w = world
    auth = w.consent.grant(convert.grant_request(w.alice.grant(BANK, validity=timedelta(days=1)))).authorization
    w.clock.at = auth.valid_until
    assert w.consent.expire_due() == 1
    assert w.consent.get(auth.id).state is State.EXPIRED
    assert w.consent.expire_due() == 0


def test_two_tries_of_one_request_racing_for_a_use_record_one_use_and_both_are_allowed(
    world: Any, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client's retry racing its first try: both read "no use yet", then queue on the authorization's row."""
    w = world
    auth = w.consent.grant(convert.grant_request(w.alice.grant(BANK, max_uses=3))).authorization
    assert _race(w, engine, auth.id, "disclosure-9", monkeypatch) == ["ALLOW", "ALLOW"]
    assert w.consent.get(auth.id).uses.total == 1
    assert [u.request_id for u in w.consent.list_uses(auth.id, None, 10).items] == ["disclosure-9"]


@pytest.mark.parametrize("longer", [False, True], ids=["one candidate", "two candidates"])
def test_two_tries_of_one_request_racing_for_a_last_use_record_one_use_and_both_are_allowed(
    world: Any, engine: Engine, longer: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first try spends the one-time use, so the second's conditional update fails (no clash on the request id):
    it is the first's retry, not a denial, and must not spend the other authorization."""
    w = world
    one_time = w.alice.grant(BANK, kind=pb.USE_LIMIT_KIND_ONE_TIME, max_uses=1, validity=timedelta(days=10))
    auth = w.consent.grant(convert.grant_request(one_time)).authorization
    if longer:
        w.consent.grant(convert.grant_request(w.alice.grant(BANK, max_uses=5, validity=timedelta(days=30))))
    assert _race(w, engine, auth.id, "disclosure-7", monkeypatch) == ["ALLOW", "ALLOW"]
    uses = [
        (a.id, u.request_id) for a in w.feed.live_authorizations() for u in w.consent.list_uses(a.id, None, 10).items
    ]
    assert uses == [(auth.id, "disclosure-7")]


def _race(w: Any, engine: Engine, auth_id: str, request_id: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The answers of two tries of one consuming check that both read "no use yet", then queue on the row."""
    answers: list[str] = []
    tries = [threading.Thread(target=lambda: answers.append(_try(w, request_id))) for _ in range(2)]
    with engine.connect() as locker:
        locker.begin()  # on SQLite this alone holds every writer back
        if engine.dialect.name == "postgresql":
            locker.execute(text("SELECT id FROM authorizations WHERE id = :id FOR UPDATE"), {"id": auth_id})
        _start_queued(engine, tries, monkeypatch)
        locker.rollback()
    for t in tries:
        t.join(60)
    assert not any(t.is_alive() for t in tries)
    return sorted(answers)


def _start_queued(engine: Engine, threads: list[threading.Thread], monkeypatch: pytest.MonkeyPatch) -> None:
    """Start ``threads`` and return once each waits for the lock a transaction of the test holds: on PostgreSQL a
    row's (seen in pg_stat_activity), on SQLite the writer gate (seen as each comes to it, past its reads)."""
    gate = writer_gate(engine)
    if gate is None:
        for t in threads:
            t.start()
        _waiting_for_a_lock(engine, len(threads))
        return
    came = threading.Semaphore(0)
    enter = gate.enter

    def counted(pooled: Any) -> None:
        if threading.current_thread() in threads:  # not the evidence log's own writer
            came.release()
        enter(pooled)

    monkeypatch.setattr(gate, "enter", counted)
    for t in threads:
        t.start()
    for _ in threads:
        assert came.acquire(timeout=60), "a writer never came to the writer gate"


def _try(w: Any, request_id: str) -> str:
    try:
        return "ALLOW" if check(w, w.alice, consume=True, request_id=request_id).allowed else "DENY"
    except DomainError as exc:
        return exc.kind


def test_a_grant_whose_requester_is_removed_before_it_commits_is_refused(world: Any) -> None:
    """The registry answers "present", then the removal watcher handles the removal (nothing committed to revoke)
    before the grant's transaction: the grant finds the removal recorded and creates nothing."""
    w = world
    present = w.registry.requester

    def removed_after_answering(name: str) -> Any:
        answer = present(name)
        if answer is not None and not answer.removed:
            w.registry.add_requester(name, removed=True)
            assert w.consent.revoke_for_requester(name) == 0
        return answer

    w.registry.requester = removed_after_answering
    with pytest.raises(DomainError) as refused:
        w.consent.grant(convert.grant_request(w.alice.grant(BANK)))
    assert refused.value.reason == "ERROR_REASON_INSTITUTION_NOT_FOUND"
    assert w.feed.changes_after(0, 10) == []
    assert check(w, w.alice).reason is DecisionReason.NO_AUTHORIZATION


@pytest.mark.skipif(not PG_URL, reason="a PostgreSQL race: SQLite serialises writers")
def test_a_removal_handled_while_a_grant_holds_the_revision_counter_revokes_the_grant(
    world: Any, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other order: the grant has taken the revision counter (not yet committed) when the watcher handles the
    removal. The watcher waits for it, then finds the grant committed and revokes it as the removal does."""
    w = world
    revoked: list[int] = []
    watcher: list[threading.Thread] = []
    original = SqlAuthorizations.next_revision

    def removal_handled_now(self: SqlAuthorizations) -> int:
        revision = original(self)
        if not watcher and threading.current_thread() is threading.main_thread():
            w.registry.add_requester(BANK, removed=True)
            watcher.append(threading.Thread(target=lambda: revoked.append(w.consent.revoke_for_requester(BANK))))
            watcher[0].start()
            _waiting_for_a_lock(engine)  # the watcher waits for the grant's transaction
        return revision

    monkeypatch.setattr(SqlAuthorizations, "next_revision", removal_handled_now)
    out = w.consent.grant(convert.grant_request(w.alice.grant(BANK)))
    watcher[0].join(30)
    monkeypatch.undo()
    assert not watcher[0].is_alive()
    assert revoked == [1]
    assert w.consent.get(out.authorization.id).state is State.REVOKED
    events = w.consent.list_events(out.authorization.id, None, 10).items
    assert [e.event_type for e in events] == [EventType.GRANTED, EventType.REVOKED_REQUESTER_REMOVED]


@pytest.mark.skipif(not PG_URL, reason="a PostgreSQL race: SQLite serialises writers")
@pytest.mark.parametrize("action", [Action.PAUSE, Action.REVOKE])
def test_a_lifecycle_retry_whose_first_try_commits_before_it_locks_the_row_gets_the_first_result(
    world: Any, monkeypatch: pytest.MonkeyPatch, action: Action
) -> None:
    """A relaying platform's retry (the same signed bytes) on its way to the authorization's row while the first try
    commits: it must get the first result (as a later retry would), not an illegal transition or ABORTED, and have
    no effect of its own."""
    w = world
    name = w.consent.grant(convert.grant_request(w.alice.grant(BANK))).authorization.name
    signed = (w.alice.pause if action is Action.PAUSE else w.alice.revoke)(name)
    first: list[Any] = []
    original = SqlAuthorizations.get
    pending = [True]

    def first_try_commits_now(self: SqlAuthorizations, authorization_id: str) -> Any:
        if self.locking and pending and threading.current_thread() is threading.main_thread():
            pending.clear()  # the retry is about to lock the row: the first try runs to its end meanwhile
            t = threading.Thread(
                target=lambda: first.append(w.consent.change(convert.lifecycle_request(action, signed)))
            )
            t.start()
            t.join(30)
            assert not t.is_alive(), "the first try waited for the retry"
        return original(self, authorization_id)

    monkeypatch.setattr(SqlAuthorizations, "get", first_try_commits_now)
    retry = w.consent.change(convert.lifecycle_request(action, signed))
    monkeypatch.undo()
    assert not pending
    assert len(first) == 1
    assert retry.receipt.digest == first[0].receipt.digest
    assert retry.authorization.state is first[0].authorization.state
    assert [e.event_type for e, _ in w.feed.changes_after(0, 10)][1:] == [first[0].receipt.event_type]
    assert w.barrier.waited.count(first[0].receipt.revision) == 2  # both answers waited for enforcement


@pytest.mark.skipif(not PG_URL, reason="a PostgreSQL race: SQLite serialises writers")
def test_a_grant_retry_whose_first_try_commits_while_it_is_under_way_gets_the_first_result(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both tries find no nonce; the first commits before the retry writes: the retry is answered with the first
    result (the authorization id is the same), not a clash on the authorization's key."""
    w = world
    signed = w.alice.grant(BANK)
    first: list[Any] = []
    original = SqlAuthorizations.next_revision
    pending = [True]

    def first_try_commits_now(self: SqlAuthorizations) -> int:
        if pending and threading.current_thread() is threading.main_thread():
            pending.clear()
            t = threading.Thread(target=lambda: first.append(w.consent.grant(convert.grant_request(signed))))
            t.start()
            t.join(30)
            assert not t.is_alive(), "the first try waited for the retry"
        return original(self)

    monkeypatch.setattr(SqlAuthorizations, "next_revision", first_try_commits_now)
    retry = w.consent.grant(convert.grant_request(signed))
    monkeypatch.undo()
    assert not pending
    assert len(first) == 1
    assert retry.receipt.digest == first[0].receipt.digest
    assert [e.event_type for e, _ in w.feed.changes_after(0, 10)] == [EventType.GRANTED]


class _Killed(BaseException):
    """The process dies here (SIGKILL): nothing after this point runs, no handler, no cleanup."""


def test_no_authorization_of_a_requester_whose_removal_the_watcher_handled_is_live_after_a_crash(world: Any) -> None:
    """The registry answers "present"; the removal watcher then handles the removal (nothing committed to revoke) and
    moves on; the process dies right after the grant's commit, before it looks at the requester again. After a
    restart no authorization of the removed requester may be live: the watcher never comes back to it."""
    w = world
    present = w.registry.requester
    looked: list[str] = []

    def removed_after_answering_then_killed(name: str) -> Any:
        looked.append(name)
        if len(looked) > 1:  # the look after the grant's commit: the process is gone by then
            raise _Killed
        answer = present(name)
        w.registry.add_requester(name, removed=True)
        assert w.consent.revoke_for_requester(name) == 0
        return answer

    w.registry.requester = removed_after_answering_then_killed
    with pytest.raises((_Killed, DomainError)):
        w.consent.grant(convert.grant_request(w.alice.grant(BANK)))
    w.registry.requester = present
    restarted = w.start()
    restarted.expire_due()  # a sweeper round, as the restarted process runs one
    assert [a.id for a in w.feed.live_authorizations() if a.requester == BANK] == []
    assert not restarted.check(CheckQuery(BANK, w.alice.uscc, "PRE_LOAN", ("TAX_PAYMENT",))).allowed
    # Whatever committed was revoked as the removal revokes, with its receipt.
    for event, auth in w.feed.changes_after(0, 100):
        if auth.requester == BANK and event.state_after is not State.REVOKED:
            assert w.consent.get(auth.id).state is State.REVOKED
            last = w.consent.list_events(auth.id, None, 10).items[-1]
            assert last.event_type is EventType.REVOKED_REQUESTER_REMOVED


def _waiting_for_a_lock(engine: Engine, waiters: int = 1) -> None:
    """Return once ``waiters`` other connections of this database wait for a lock (polled: PostgreSQL shows it)."""
    deadline = time.monotonic() + 60  # generous: only a broken test gets here, and it fails loudly
    with engine.connect() as probe:
        while time.monotonic() < deadline:
            waiting = probe.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                )
            ).scalar_one()
            probe.rollback()
            if waiting >= waiters:
                return
            threading.Event().wait(0.01)  # paces the poll only
    raise AssertionError(f"{waiters} connection(s) never came to wait for a lock")


@pytest.mark.skipif(not PG_URL, reason="a PostgreSQL lock order: SQLite serialises writers")
def test_a_batch_of_uses_and_the_expiry_sweeper_do_not_deadlock(
    world: Any, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch records its uses in (requester, enterprise, purpose) order, the sweeper expires in id order. Two
    authorizations ending together, whose ids are in the other order than their keys: the batch spends the first,
    the sweeper (its clock now past their end) locks the second and waits for the first, the batch goes on to the
    second. Both must finish, neither chosen as a deadlock's victim."""
    w = world
    first, second = sorted([w.alice, w.bob], key=lambda e: e.uscc)  # the batch's key order
    valid_from = now_s() - timedelta(minutes=1)
    while True:  # ids are hashes of what was signed: sign until they are in the order that closes the cycle
        a, b = (e.grant(BANK, valid_from=valid_from, validity=timedelta(days=1)) for e in (first, second))
        if convert.grant_request(a).authorization_id() > convert.grant_request(b).authorization_id():
            break
    auths = [w.consent.grant(convert.grant_request(r)).authorization for r in (a, b)]
    end = auths[0].valid_until
    assert auths[1].valid_until == end
    batch = [CheckQuery(BANK, e.uscc, "PRE_LOAN", ("TAX_PAYMENT",), consume=True) for e in (first, second)]
    errors: list[BaseException] = []
    sweeper: list[threading.Thread] = []

    def sweep() -> None:
        try:
            w.consent.expire_due()
        except BaseException as exc:
            errors.append(exc)

    original = SqlAuthorizations.record_use

    def sweeper_comes_after_the_first_use(self: SqlAuthorizations, auth: Any, use: Any) -> bool:
        spent = original(self, auth, use)
        if not sweeper:
            w.clock.at = end  # the batch read its time already: for the sweeper both have ended
            sweeper.append(threading.Thread(target=sweep))
            sweeper[0].start()
            _waiting_for_a_lock(engine)
        return spent

    monkeypatch.setattr(SqlAuthorizations, "record_use", sweeper_comes_after_the_first_use)
    try:
        answers = w.consent.check_all(batch)
    except BaseException as exc:
        errors.append(exc)
        answers = []
    monkeypatch.undo()
    sweeper[0].join(60)
    assert not sweeper[0].is_alive()
    assert errors == []
    assert [getattr(d, "allowed", None) for d in answers] == [True, True]
    assert [w.consent.get(x.id).state for x in auths] == [State.EXPIRED, State.EXPIRED]
    assert [w.consent.get(x.id).uses.total for x in auths] == [1, 1]


@pytest.mark.skipif(not PG_URL, reason="a PostgreSQL lock order: SQLite serialises writers")
@pytest.mark.parametrize("first", ["batch", "revocation"])
def test_a_batch_of_uses_and_a_requesters_revocation_do_not_deadlock(world: Any, engine: Engine, first: str) -> None:
    """A batch spends uses of four authorizations of one requester (their ids against their keys' order) while
    the watcher revokes all of them, the requester being removed. A third session holds the row of the second
    lowest id: the side started first locks the lowest and waits for that row, the other comes to wait too, then the
    row is let go. Both lock in id order, so the second waits for the lowest holding nothing; in any other order (the
    batch's key order, say) each would hold rows the other waits for, and PostgreSQL would abort one as a deadlock.
    A use is spent before the revocation commits or refused after it, never spent on a revoked authorization."""
    w = world
    firms = sorted((Enterprise(make_uscc(20 + i)) for i in range(4)), key=lambda e: e.uscc)  # the batch's key order
    for e in firms:
        w.registry.add_enterprise(e)
    while True:  # ids are hashes of what was signed: sign until they run against the key order
        requests = [convert.grant_request(e.grant(BANK)) for e in firms]
        if [r.authorization_id() for r in requests] == sorted((r.authorization_id() for r in requests), reverse=True):
            break
    auths = [w.consent.grant(r).authorization for r in requests]
    ids = sorted(a.id for a in auths)
    batch = [CheckQuery(BANK, e.uscc, "PRE_LOAN", ("TAX_PAYMENT",), consume=True) for e in firms]
    answers: list[Any] = []
    revoked: list[int] = []
    errors: list[BaseException] = []

    def run(step: str) -> None:
        try:
            if step == "batch":
                answers.extend(w.consent.check_all(batch))
            else:
                revoked.append(w.consent.revoke_for_requester(BANK))
        except BaseException as exc:
            errors.append(exc)

    w.registry.add_requester(BANK, removed=True)
    order = [first, "revocation" if first == "batch" else "batch"]
    threads = [threading.Thread(target=run, args=(step,)) for step in order]
    with engine.connect() as holder:
        holder.begin()
        holder.execute(text("SELECT id FROM authorizations WHERE id = :id FOR UPDATE"), {"id": ids[1]})
        for n, t in enumerate(threads, start=1):
            t.start()
            _waiting_for_a_lock(engine, n)  # the first for ids[1] (it holds ids[0]), then the second
        holder.rollback()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    assert revoked == [4]
    spent = first == "batch"
    assert [(d.allowed, d.reason) for d in answers] == [
        (True, DecisionReason.AUTHORIZED) if spent else (False, DecisionReason.REVOKED)
    ] * len(batch)
    for a in auths:
        stored = w.consent.get(a.id)
        assert (stored.state, stored.uses.total) == (State.REVOKED, 1 if spent else 0)
        assert len(w.consent.list_uses(a.id, None, 10).items) == stored.uses.total
        last = w.consent.list_events(a.id, None, 10).items[-1]
        assert last.event_type is EventType.REVOKED_REQUESTER_REMOVED
