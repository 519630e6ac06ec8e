"""The objection store on the configured backend (SQLite, or PostgreSQL with CREDITNODE_TEST_PG_URL)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import Engine, func, select, text, update
from structlog.testing import capture_logs

from services.kit.db import make_engine, migrate, session_factories
from services.kit.errors import Aborted, AlreadyExists, NotFound, Unavailable
from services.kit.evidence.entries import LeafKind
from services.kit.evidence.heads import NodeKey
from services.kit.evidence.log import EvidenceLog
from services.kit.evidence.store import LeafFilter
from services.objection import usecases
from services.objection.background import DONE, Dispatcher, Handler
from services.objection.domain import Objection, ObjectionFilter, ObjectionStatus, Outcome
from services.objection.main import MIGRATIONS, _sweep_and_measure
from services.objection.store.models import ObjectionRow, OutboxRow, TimelineRow, evidence_models
from services.objection.store.repositories import SqlObjectionUnitOfWork
from services.objection.usecases import Idempotency
from tests.unit.objection.fakes import ACME, TAX, World, bank, cst
from tests.unit.objection_service.fakes import lookups


class Db:
    def __init__(self, engine: Engine, evidence: EvidenceLog) -> None:
        self.engine, self.evidence = engine, evidence
        self.writer_sessions, self.reader_sessions = session_factories(engine)

    def writer(self) -> SqlObjectionUnitOfWork:
        return SqlObjectionUnitOfWork(self.writer_sessions, self.evidence)

    def reader(self) -> SqlObjectionUnitOfWork:
        return SqlObjectionUnitOfWork(self.reader_sessions)


@pytest.fixture
def db(database_url: str, tmp_path: Path) -> Iterator[Db]:
    engine = make_engine(database_url)
    migrate(engine, MIGRATIONS, "alembic_version_objection")
    evidence = EvidenceLog(engine, evidence_models, origin="test/objection", key=NodeKey.generate()).start()
    try:
        yield Db(engine, evidence)
    finally:
        evidence.close()
        engine.dispose()


def _file(db: Db, world: World, **overrides: object) -> object:
    command = world.command(**overrides)
    return usecases.file(db.writer, db.reader, lookups(world), command, Idempotency(), command.forwarded_at)


def _uphold(db: Db, world: World, objection_id: str, idem: Idempotency, now: datetime) -> Objection:
    """The tax department answers the objection's record: UPHELD."""
    return usecases.answer(
        db.writer,
        lookups(world),
        objection_id,
        department=TAX,
        target=world.tax_record,
        outcome=Outcome.UPHELD,
        corrected_version=None,
        idem=idem,
        now=now,
    )


def test_a_filed_objection_reads_back_whole_with_its_timeline(db: Db) -> None:
    world = World()
    filed = _file(db, world, attachments=())
    with db.reader() as uow:
        stored = uow.objections.get(filed.id)  # type: ignore[attr-defined]
    assert stored is not None
    assert stored.status is ObjectionStatus.ROUTED
    assert stored.timeline == filed.timeline  # type: ignore[attr-defined]
    assert stored.lines[0].department == TAX
    assert stored.handling_due == filed.handling_due  # type: ignore[attr-defined]


def test_every_timeline_step_is_evidence_without_reasons_text(db: Db) -> None:
    world = World()
    filed = _file(db, world)
    leaves = db.evidence.list_leaves(LeafFilter(kind=LeafKind.OBJECTION_STEP), None, 100)
    assert len(leaves) == len(filed.timeline)  # type: ignore[attr-defined]
    for leaf in leaves:
        assert "arrears were paid" not in leaf.entry_json
        assert ACME not in leaf.entry_json


def test_answering_appends_to_the_timeline_and_frees_the_open_target(db: Db) -> None:
    world = World()
    world.disclosures.disclose(bank(), ACME, "tax.arrears", cst(2025, 3, 10, 12), world.tax_record.record_id)
    filed = _file(db, world)
    with db.reader() as uow:
        before = uow.session.scalar(select(func.count()).select_from(TimelineRow))
    _uphold(db, world, filed.id, Idempotency("answer-1", "fp"), cst(2025, 3, 15))  # type: ignore[attr-defined]
    with db.reader() as uow:
        after = uow.session.scalar(select(func.count()).select_from(TimelineRow))
        stored = uow.objections.get(filed.id)  # type: ignore[attr-defined]
        assert uow.objections.open_objection_on(world.tax_record) is None
        notices = uow.notices.page(None, None, 10)
    assert stored is not None
    assert stored.status is ObjectionStatus.RESOLVED
    assert after is not None
    assert before is not None
    assert after > before
    assert [n.recipient for n in notices] == [bank().id]
    # A replay of the answer returns the stored objection and changes nothing.
    again = _uphold(db, world, filed.id, Idempotency("answer-1", "fp"), cst(2025, 3, 16))  # type: ignore[attr-defined]
    assert again.resolved_at == stored.resolved_at


def _renumber_up_to(engine: Engine, table: str, last: int) -> None:
    """Shift ``table``'s ids so its highest is ``last`` and the next one given is ``last + 1`` (SQLite's next rowid
    follows the highest; PostgreSQL's comes from the column's sequence)."""
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE {table} SET id = id + (:last - (SELECT max(id) FROM {table}))"), {"last": last})  # noqa: S608
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT setval(pg_get_serial_sequence(:t, 'id'), :v)"), {"t": table, "v": last})


def test_outbox_and_notice_ids_carry_on_past_32_bits(db: Db) -> None:
    # Outbox events and notices are kept for good, a few per objection: PostgreSQL's INTEGER (and a SERIAL's
    # sequence) stops at 2**31 - 1, after which every objection's change would fail with "integer out of range".
    last_32_bit = 2**31 - 1
    world = World()
    world.disclosures.disclose(bank(), ACME, "tax.arrears", cst(2025, 3, 10, 12), world.tax_record.record_id)
    first = _file(db, world)
    _uphold(db, world, first.id, Idempotency(), cst(2025, 3, 15))  # type: ignore[attr-defined]
    _renumber_up_to(db.engine, "objection_outbox", last_32_bit)
    _renumber_up_to(db.engine, "objection_notices", last_32_bit)
    second = _file(db, world)  # the record is free again: a second objection on it
    _uphold(db, world, second.id, Idempotency(), cst(2025, 3, 16))  # type: ignore[attr-defined]
    with db.reader() as uow:
        events = list(
            uow.session.scalars(select(OutboxRow.id).where(OutboxRow.objection_id == second.id).order_by(OutboxRow.id))  # type: ignore[attr-defined]
        )
        notices = uow.notices.page(None, last_32_bit, 10)
    assert events[0] == 2**31
    assert [(n.id, n.objection_id) for n in notices] == [(2**31, second.id)]  # type: ignore[attr-defined]
    now = cst(2025, 3, 17)
    with db.writer() as uow:
        due = {item.id for item in uow.outbox.due(now, 100)}
        assert events[0] in due
        uow.outbox.mark(events[0], "DONE", now)
        uow.commit()
    with db.reader() as uow:
        assert uow.session.get(OutboxRow, events[0]).state == "DONE"  # type: ignore[union-attr]


def test_two_concurrent_filings_on_one_record_exactly_one_wins(db: Db) -> None:
    world = World()
    commands = [world.command(), world.command()]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run(i: int) -> None:
        command = commands[i]
        lk = lookups(world)
        # Build both aggregates first (the race the unique key must settle), then write concurrently.
        try:
            with db.reader() as r:
                from services.objection.domain import file_objection

                objection = file_objection(
                    command,
                    records=lk.records,
                    evaluations=lk.evaluations,
                    disclosures=lk.disclosures,
                    open_disputes=r.objections,
                    departments=lk.departments,
                    calendar=lk.calendar,
                    policy=lk.policy,
                )
            barrier.wait()
            with db.writer() as uow:
                uow.objections.add(objection, "fp", command.forwarded_at)
                uow.commit()
                outcomes.append("won")
        except AlreadyExists as exc:
            outcomes.append(exc.reason)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ERROR_REASON_OBJECTION_DUPLICATE", "won"]
    with db.reader() as uow:
        assert len(uow.objections.page(ObjectionFilter(), None, 10)) == 1


def test_a_lost_update_is_aborted(db: Db) -> None:
    world = World()
    filed = _file(db, world)
    with pytest.raises(Aborted), db.writer() as uow:
        stale = uow.objections.get(filed.id)  # type: ignore[attr-defined]
        assert stale is not None
        # Another writer commits a change after this one read the objection (its version moves on).
        uow.session.execute(
            update(ObjectionRow).where(ObjectionRow.objection_id == stale.id).values(version=ObjectionRow.version + 1),
            execution_options={"synchronize_session": False},
        )
        stale.extend(days=1, reason="site visit", by="operators/a", at=cst(2025, 3, 12), policy=world.policy)
        uow.objections.save(stale)
        uow.commit()


def test_outbox_keeps_one_row_per_effect(db: Db) -> None:
    world = World()
    filed = _file(db, world)
    with db.writer() as uow:
        stored = uow.objections.get(filed.id)  # type: ignore[attr-defined]
        assert stored is not None
        uow.outbox.add(stored.pull_events(), cst(2025, 3, 11))
        uow.objections.save(stored)
        uow.commit()
    with db.reader() as uow:
        types = list(uow.session.scalars(select(OutboxRow.event_type)))
    assert types.count("DisputeFlagRaised") == 1
    assert types.count("DisputeRouted") == 1


def test_each_objections_events_are_delivered_in_order_even_when_an_earlier_one_waits(db: Db) -> None:
    # After an outage the raising of a flag waits out a longer backoff than its clearing, added later: delivered out
    # of order, the clearing would find nothing to clear and the flag would then stay raised for good.
    world = World()
    filed = _file(db, world)
    _uphold(db, world, filed.id, Idempotency(), cst(2025, 3, 15))  # type: ignore[attr-defined]
    now = cst(2025, 3, 16)
    with db.reader() as uow:
        types = list(uow.session.scalars(select(OutboxRow.event_type).order_by(OutboxRow.id)))
        first = uow.outbox.due(now, 100)
    assert "DisputeFlagRaised" in types
    assert "DisputeFlagCleared" in types
    assert [i.event_type for i in first] == [types[0]]  # one at a time per objection
    with db.writer() as uow:
        uow.outbox.mark(first[0].id, "PENDING", now, "UNAVAILABLE", retry_in=300)
        uow.commit()
    with db.reader() as uow:
        assert uow.outbox.due(now + timedelta(seconds=1), 100) == []  # the later ones wait for it
    delivered = []  # once its backoff is over, the first goes again, and then each of the others in turn
    later = now + timedelta(seconds=301)
    while True:
        with db.writer() as uow:
            due = uow.outbox.due(later, 100)
            if not due:
                break
            assert len(due) == 1
            uow.outbox.mark(due[0].id, "DONE", later)
            uow.commit()
        delivered.append(due[0].event_type)
    assert delivered == types


def test_two_dispatchers_never_deliver_an_objections_events_out_of_order(db: Db) -> None:
    # Every objection replica runs a dispatcher (prod runs two, and a rolling restart overlaps old and new pods). One
    # that read an event and is still delivering it must keep the other from delivering it again and going on to the
    # objection's later events: its late copy would then land after them, and the registry, which keeps the last
    # statement it is sent, would show the enterprise's replaced statement instead of its current one.
    world = World()
    filed: Any = _file(db, world)
    _uphold(db, world, filed.id, Idempotency(), cst(2025, 3, 15))
    arrived: list[tuple[str, object]] = []

    def deliver(payload: Mapping[str, Any]) -> str:
        arrived.append((str(payload["type"]), payload.get("statement")))
        return DONE

    with db.reader() as uow:
        types = set(uow.session.scalars(select(OutboxRow.event_type)))
    handlers: dict[str, Handler] = {t: deliver for t in {*types, "StatementAttached"}}
    now = [cst(2025, 3, 16)]
    first = Dispatcher(db.writer, handlers, lambda: now[0])
    while first.run_once():  # everything up to the resolution is delivered
        pass
    for n, statement in enumerate(("the arrears were paid", "paid in full on 3 March, receipt attached")):
        usecases.attach_statement(
            db.writer,
            filed.id,
            enterprise=ACME,
            target=world.tax_record,
            statement=statement,
            idem=Idempotency(),
            now=cst(2025, 3, 17, 9 + n),
        )
    arrived.clear()
    now[0] = cst(2025, 3, 18)
    holding, release = threading.Event(), threading.Event()

    def slow(payload: Mapping[str, Any]) -> str:
        holding.set()
        assert release.wait(30)
        return deliver(payload)

    second = Dispatcher(db.writer, {t: slow for t in handlers}, lambda: now[0])
    slow_round = threading.Thread(target=second.run_once)
    slow_round.start()
    assert holding.wait(30)  # the second dispatcher is delivering the first statement
    for _ in range(3):
        first.run_once()
    release.set()
    slow_round.join(30)
    now[0] += timedelta(hours=1)
    while first.run_once():
        pass
    assert arrived == [
        ("StatementAttached", "the arrears were paid"),
        ("StatementAttached", "paid in full on 3 March, receipt attached"),
    ]


def test_request_ids_are_each_callers_own(db: Db) -> None:
    # Two platforms may pick the same request id: the second filing is its own objection, not a "reused" id.
    world = World()
    first_command = world.command()
    first = usecases.file(
        db.writer, db.reader, lookups(world), first_command, Idempotency("r-1", "fp-a"), cst(2025, 3, 11)
    )
    _uphold(db, world, first.id, Idempotency("r-1", "fp-answer"), cst(2025, 3, 15))  # and a department may use it too
    other_command = world.command(platform="platforms/baoji", objection_id="obj-other")
    other = usecases.file(
        db.writer, db.reader, lookups(world), other_command, Idempotency("r-1", "fp-b"), cst(2025, 3, 16)
    )
    assert other.id != first.id
    again = usecases.file(
        db.writer, db.reader, lookups(world), first_command, Idempotency("r-1", "fp-a"), cst(2025, 3, 17)
    )
    assert again.id == first.id  # the first platform's retry still returns its objection


def test_the_sweep_reaches_every_candidate_beyond_its_batch(db: Db) -> None:
    # Objections that stay candidates (no department takes their item) must not keep later ones from being reached.
    world = World()
    world.departments.mapping.pop("tax.arrears")
    records = [world.records.add(f"rec-tax-{n}", 1, ACME, "tax.arrears", TAX) for n in range(2, 6)]
    filed = [_file(db, world, records=(r,)) for r in records]
    assert {o.status for o in filed} == {ObjectionStatus.FORWARDED}  # type: ignore[attr-defined]
    now = cst(2025, 3, 12)
    assert usecases.sweep(db.writer, db.reader, lookups(world), world.calendar, now, batch=3).rerouted == 0
    world.departments.mapping["tax.arrears"] = TAX
    assert usecases.sweep(db.writer, db.reader, lookups(world), world.calendar, now, batch=3).rerouted == 4
    # Overdue alerts likewise reach all four, three at a time.
    late = cst(2025, 6, 1)
    assert usecases.sweep(db.writer, db.reader, lookups(world), world.calendar, late, batch=3).overdue_alerted == 4


def test_a_permanently_refused_event_is_parked_counted_and_logged_and_later_events_go_on(db: Db) -> None:
    # The registry refuses to flag a record it no longer has (NOT_FOUND): retrying cannot help, and while it was
    # retried the objection's later events (the clearing, the resolution) waited behind it for ever.
    world = World()
    filed = _file(db, world)
    _uphold(db, world, filed.id, Idempotency(), cst(2025, 3, 15))  # type: ignore[attr-defined]
    calls: list[str] = []

    def refuse(payload: Mapping[str, Any]) -> str:
        calls.append(str(payload["type"]))
        raise NotFound("ERROR_REASON_RECORD_NOT_FOUND", "no such record")

    def deliver(payload: Mapping[str, Any]) -> str:
        calls.append(str(payload["type"]))
        return DONE

    with db.reader() as uow:
        types = list(uow.session.scalars(select(OutboxRow.event_type).order_by(OutboxRow.id)))
    handlers: dict[str, Handler] = {t: deliver for t in types}
    handlers["DisputeFlagRaised"] = refuse
    now = [cst(2025, 3, 16)]
    dispatcher = Dispatcher(db.writer, handlers, lambda: now[0])
    with capture_logs() as logs:
        for _ in range(len(types) + 3):  # each round delivers what is due; an hour apart, past any backoff
            dispatcher.run_once()
            now[0] += timedelta(hours=1)
    assert calls.count("DisputeFlagRaised") == 1  # never retried
    assert sorted(calls) == sorted(types)  # every later event was delivered, the clearing too
    with db.reader() as uow:
        rows = {r.event_type: (r.id, r.state, r.last_error) for r in uow.session.scalars(select(OutboxRow))}
    assert usecases.refused_events(db.reader) == 1
    refused_id, state, error = rows.pop("DisputeFlagRaised")
    assert (state, error) == ("REFUSED", "NOT_FOUND ERROR_REASON_RECORD_NOT_FOUND")
    assert {t: r[1] for t, r in rows.items()} == {t: "DONE" for t in types[1:]}
    # The figure the alert watches, as the service's periodic job sets it.
    _sweep_and_measure(db.writer, db.reader, lookups(world), world.calendar)
    assert REGISTRY.get_sample_value("creditnode_objection_events_refused", {"service": "objection"}) == 1
    refused = [line for line in logs if line["event"] == "objection_event_refused"]
    assert refused == [
        {
            "event": "objection_event_refused",
            "log_level": "warning",
            "alert": True,
            "event_type": "DisputeFlagRaised",
            "objection": filed.id,  # type: ignore[attr-defined]
            "outbox_id": refused_id,
            "code": "NOT_FOUND",
            "reason": "ERROR_REASON_RECORD_NOT_FOUND",
        }
    ]


def test_a_retryable_failure_stays_pending_and_holds_the_objections_later_events(db: Db) -> None:
    world = World()
    filed = _file(db, world)
    _uphold(db, world, filed.id, Idempotency(), cst(2025, 3, 15))  # type: ignore[attr-defined]
    calls: list[str] = []

    def down(payload: Mapping[str, Any]) -> str:
        calls.append(str(payload["type"]))
        raise Unavailable("ERROR_REASON_DEPENDENCY_UNAVAILABLE", "the registry is unavailable", {"code": "UNAVAILABLE"})

    now = [cst(2025, 3, 16)]
    dispatcher = Dispatcher(db.writer, {"DisputeFlagRaised": down}, lambda: now[0])
    for _ in range(3):
        dispatcher.run_once()
        now[0] += timedelta(hours=1)
    assert calls == ["DisputeFlagRaised"] * 3
    with db.reader() as uow:
        states = set(uow.session.scalars(select(OutboxRow.state)))
    assert states == {"PENDING"}
    assert usecases.refused_events(db.reader) == 0
