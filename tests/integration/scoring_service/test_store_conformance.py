"""One conformance suite for the scoring storage port, run on SQLite or PostgreSQL (CREDITNODE_TEST_PG_URL) and on
the in-memory fake the unit tests use, so the fake cannot drift from the real store."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, text

from services.kit.db import make_engine, migrate, session_factories
from services.scoring.domain.engine import Contribution, Evaluation
from services.scoring.domain.ports import (
    Alert,
    EnterpriseState,
    LoanEntry,
    LoanStatus,
    PublishedModel,
    ScoringUnitOfWork,
)
from services.scoring.domain.records import Record, RecordRef
from services.scoring.domain.risk import ALERT_KEY_MAX
from services.scoring.main import MIGRATIONS
from services.scoring.store.models import AlertRow, EvaluationRow
from services.scoring.store.repositories import SqlScoringUnitOfWork
from tests.unit.scoring_service.fakes import FakeUnitOfWork, Store

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
UowFactory = Callable[[], ScoringUnitOfWork]


@pytest.fixture(params=["sql", "fake"])
def uow(request: pytest.FixtureRequest, database_url: str) -> Iterator[UowFactory]:
    if request.param == "fake":
        store = Store()
        yield lambda: FakeUnitOfWork(store)
        return
    engine = make_engine(database_url)
    migrate(engine, MIGRATIONS, "alembic_version_scoring")
    writer, _ = session_factories(engine)
    yield lambda: SqlScoringUnitOfWork(writer)
    engine.dispose()


def evaluation(score: int, version: str = "basic-v1") -> Evaluation:
    ref = RecordRef("r1", 2, "COURT_ENFORCEMENT", True)
    part = Contribution(
        "open_enforcement_cases", "judicial", 1.0, "[1, 2)", 30.0, 0.06, 18.0, False, False, (ref,), True
    )
    return Evaluation(version, score, "BBB", float(score), (part,), 0.5, ("MALICIOUS_DEBT_EVASION",), True)


def alert(key: str, institution: str = "bank-a") -> Alert:
    return Alert(
        0,
        institution,
        "91610100MA6TEST001",
        "loan-1",
        "NEW_ENFORCEMENT",
        "HIGH",
        "why",
        (RecordRef("r1", 1, "X"),),
        (),
        key,
        NOW,
    )


def test_nothing_is_stored_without_commit(uow: UowFactory) -> None:
    with uow() as u:
        u.models.add(PublishedModel("basic-v1", "t", "doc", NOW))
    with uow() as u:
        assert u.models.current() is None


def test_the_last_published_model_is_current(uow: UowFactory) -> None:
    with uow() as u:
        u.models.add(PublishedModel("basic-v1", "t", "doc1", NOW))
        u.models.add(PublishedModel("basic-v2", "t", "doc2", NOW))
        u.commit()
    with uow() as u:
        current = u.models.current()
        assert current is not None
        assert current.version == "basic-v2"
        first = u.models.get("basic-v1")
        assert first is not None
        assert first.document == "doc1"


def test_a_model_version_is_published_once(uow: UowFactory) -> None:
    with uow() as u:
        assert u.models.add(PublishedModel("basic-v1", "t", "doc1", NOW)) is True
        u.commit()
    with uow() as u:
        assert u.models.add(PublishedModel("basic-v1", "t", "other", NOW)) is False
        u.commit()
    with uow() as u:
        stored = u.models.get("basic-v1")
        assert stored is not None
        assert stored.document == "doc1"


def test_an_enterprise_is_added_only_while_absent(uow: UowFactory) -> None:
    with uow() as u:
        assert u.enterprises.add(EnterpriseState("91610100MA6TEST001", "xian", True, (), NOW, 3)) is True
        u.commit()
    with uow() as u:
        assert u.enterprises.add(EnterpriseState("91610100MA6TEST001", "weinan", False, (), None, 9)) is False
        u.commit()
    with uow() as u:
        assert u.enterprises.get("91610100MA6TEST001") == EnterpriseState(
            "91610100MA6TEST001", "xian", True, (), NOW, 3
        )


def test_enterprise_records_round_trip_with_their_types(uow: UowFactory) -> None:
    fields = {"d": date(2026, 1, 2), "n": Decimal("12.30"), "i": 3, "b": False, "s": "OPEN"}
    record = Record("r1", "COURT_ENFORCEMENT", fields, NOW, 2, True)
    with uow() as u:
        u.enterprises.put(EnterpriseState("91610100MA6TEST001", "xian", True, (record,), NOW, 7))
        u.enterprises.put(EnterpriseState("91610100MA6TEST000", "xian", False))
        u.commit()
    with uow() as u:
        got = u.enterprises.get("91610100MA6TEST001")
        assert got is not None
        assert got.records == (record,)
        assert got.record_revision == 7
        assert [e.uscc for e in u.enterprises.active("", 10)] == ["91610100MA6TEST001"]
        u.enterprises.forget_revisions()
        u.commit()
    with uow() as u:
        got = u.enterprises.get("91610100MA6TEST001")
        assert got is not None
        assert (got.record_revision, got.records) == (0, (record,))


def test_enterprise_records_keep_their_publicity_end(uow: UowFactory) -> None:
    ends = Record("r1", "AMR_PENALTY", {"decided_on": date(2026, 1, 2)}, NOW, 1, False, NOW + timedelta(days=1))
    endless = Record("r2", "REG_BASIC", {}, NOW, 1, False, None)
    with uow() as u:
        u.enterprises.put(EnterpriseState("91610100MA6TEST001", "xian", True, (ends, endless), NOW, 7))
        u.commit()
    with uow() as u:
        got = u.enterprises.get("91610100MA6TEST001")
        assert got is not None
        assert [r.publicity_end for r in got.records] == [NOW + timedelta(days=1), None]


def test_evaluation_history_is_newest_first_and_pages_by_id(uow: UowFactory) -> None:
    with uow() as u:
        for score in (500, 600, 700):
            u.evaluations.add("91610100MA6TEST001", evaluation(score), NOW, score)
        u.commit()
    with uow() as u:
        current = u.evaluations.current("91610100MA6TEST001")
        assert current is not None
        assert current.evaluation == evaluation(700)
        page = u.evaluations.history("91610100MA6TEST001", None, 2)
        assert [e.evaluation.score for e in page] == [700, 600]
        rest = u.evaluations.history("91610100MA6TEST001", page[-1].evaluation_id, 2)
        assert [e.evaluation.score for e in rest] == [500]


def test_the_basis_of_current_evaluations_is_the_latest_per_enterprise(uow: UowFactory) -> None:
    a, b, never = "91610100MA6TEST001", "91610100MA6TEST002", "91610100MA6TEST003"
    with uow() as u:
        u.evaluations.add(a, evaluation(500, "basic-v1"), NOW, 3)
        u.evaluations.add(b, evaluation(600, "basic-v1"), NOW, 4)
        u.evaluations.add(a, evaluation(700, "basic-v2"), NOW, 5)
        u.commit()
    with uow() as u:
        assert u.evaluations.current_basis([a, b, never]) == {a: ("basic-v2", 5), b: ("basic-v1", 4)}
        assert u.evaluations.current_basis([]) == {}


def test_an_alert_key_is_stored_once_per_institution_and_cursors_grow(uow: UowFactory) -> None:
    with uow() as u:
        first = u.alerts.add(alert("k1"), True)
        assert u.alerts.add(alert("k1"), True) is None
        other = u.alerts.add(alert("k1", "bank-b"), True)
        held = u.alerts.add(alert("k2"), False)
        later = u.alerts.add(alert("k3"), True)
        u.commit()
    assert first is not None
    assert other is not None
    assert held is not None
    assert later is not None
    assert first.cursor < other.cursor < held.cursor < later.cursor
    with uow() as u:
        assert [a.key for a in u.alerts.after("bank-a", 0, 10)] == ["k1", "k3"]  # withheld ones never listed
        assert [a.key for a in u.alerts.after("bank-a", first.cursor, 10)] == ["k3"]
        assert u.alerts.after("bank-a", 0, 10)[0].evidence == (RecordRef("r1", 1, "X"),)


def test_the_longest_alert_key_fits(uow: UowFactory) -> None:
    key = "k" * ALERT_KEY_MAX  # what alert_key() may make of a score drop naming many records
    with uow() as u:
        stored = u.alerts.add(alert(key), True)
        assert u.alerts.add(alert(key), True) is None
        u.commit()
    assert stored is not None
    with uow() as u:
        assert [a.key for a in u.alerts.after("bank-a", 0, 10)] == [key]


def _fields(refs: tuple[RecordRef, ...]) -> list[tuple[object, ...]]:
    return [(r.record_id, r.version, r.item_code, r.in_dispute, r.event_time) for r in refs]


def test_record_references_keep_their_event_times(uow: UowFactory) -> None:
    # RecordRef equality names only the record version: the event time is compared field by field.
    at = datetime(2025, 3, 4, 5, 6, 7, 890_000, tzinfo=UTC)
    refs = (RecordRef("r1", 2, "COURT_ENFORCEMENT", True, at), RecordRef("r2", 1, "TAX_PAYMENT"))
    part = Contribution("open_enforcement_cases", "judicial", 1.0, "[1, 2)", 30.0, 0.06, 18.0, False, False, refs, True)
    with uow() as u:
        u.evaluations.add(
            "91610100MA6TEST001", Evaluation("basic-v1", 700, "BBB", 700.0, (part,), 0.5, (), False), NOW, 1
        )
        u.alerts.add(replace_evidence(alert("k1"), refs), True)
        u.commit()
    with uow() as u:
        current = u.evaluations.current("91610100MA6TEST001")
        assert current is not None
        assert _fields(current.evaluation.contributions[0].evidence) == _fields(refs)
        assert _fields(u.alerts.after("bank-a", 0, 10)[0].evidence) == _fields(refs)


def replace_evidence(a: Alert, refs: tuple[RecordRef, ...]) -> Alert:
    return Alert(
        a.cursor, a.institution_id, a.uscc, a.loan_id, a.risk, a.severity, a.reason, refs, a.flags, a.key, a.created_at
    )


def test_references_stored_before_event_times_were_kept_still_decode(database_url: str) -> None:
    # Evaluations and alerts stored as [record, version, item, in_dispute]: read with no event time (which the
    # gateway counts as before any look-back), nothing else lost.
    engine = make_engine(database_url)
    migrate(engine, MIGRATIONS, "alembic_version_scoring")
    writer, _ = session_factories(engine)
    old = [["r1", 2, "COURT_ENFORCEMENT", True]]
    part = ["open_enforcement_cases", "judicial", 1.0, "[1, 2)", 30.0, 0.06, 18.0, False, False, old, True]
    try:
        with writer() as s:
            s.add(
                EvaluationRow(
                    uscc="91610100MA6TEST001",
                    model_version="basic-v1",
                    score=700,
                    grade="BBB",
                    coverage=0.5,
                    flags="[]",
                    payload=json.dumps({"raw": 700.0, "capped": False, "contributions": [part]}),
                    evaluated_at=NOW,
                    record_revision=1,
                )
            )
            s.add(
                AlertRow(
                    institution_id="bank-a",
                    uscc="91610100MA6TEST001",
                    loan_id="loan-1",
                    risk="NEW_ENFORCEMENT",
                    severity="HIGH",
                    reason="why",
                    evidence=json.dumps(old),
                    flags="[]",
                    key="k-old",
                    deliverable=True,
                    created_at=NOW,
                )
            )
            s.commit()
        with SqlScoringUnitOfWork(writer) as u:
            current = u.evaluations.current("91610100MA6TEST001")
            assert current is not None
            contribution = current.evaluation.contributions[0]
            assert (contribution.indicator, contribution.value, contribution.disputed) == (
                "open_enforcement_cases",
                1.0,
                True,
            )
            expected = [("r1", 2, "COURT_ENFORCEMENT", True, None)]
            assert _fields(contribution.evidence) == expected
            assert _fields(u.alerts.after("bank-a", 0, 10)[0].evidence) == expected
    finally:
        engine.dispose()


def _renumber_last(engine: Engine, table: str, last: int) -> None:
    """Give ``table``'s only row the id ``last`` and make the next id ``last + 1`` (SQLite's next rowid follows the
    highest; PostgreSQL's comes from the column's sequence)."""
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE {table} SET id = :v"), {"v": last})  # noqa: S608 (fixed names)
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT setval(pg_get_serial_sequence(:t, 'id'), :v)"), {"t": table, "v": last})


def test_evaluation_and_alert_ids_carry_on_past_32_bits(database_url: str) -> None:
    # An evaluation is added on every record change of an enterprise and for every active enterprise on each model
    # publish; an alert id is a WatchAlerts cursor (int64 on the wire). PostgreSQL's INTEGER (and a SERIAL's
    # sequence) stops at 2**31 - 1, so the next evaluation or alert would fail with "integer out of range".
    from services.scoring.domain.disputes import DisputeOutcome, open_dispute

    last_32_bit = 2**31 - 1
    uscc = "91610100MA6TEST001"
    engine = make_engine(database_url)
    migrate(engine, MIGRATIONS, "alembic_version_scoring")
    writer, _ = session_factories(engine)
    try:
        with SqlScoringUnitOfWork(writer) as u:
            u.evaluations.add(uscc, evaluation(500), NOW, 1)
            u.alerts.add(alert("k0"), True)
            u.commit()
        _renumber_last(engine, "evaluations", last_32_bit)
        _renumber_last(engine, "alerts", last_32_bit)
        with SqlScoringUnitOfWork(writer) as u:
            disputed = u.evaluations.add(uscc, evaluation(600), NOW, 2)
            u.disputes.put(open_dispute(uscc, "objections/o-1", disputed.evaluation_id, NOW))
            raised = u.alerts.add(alert("k1"), True)
            u.commit()
        assert disputed.evaluation_id == 2**31
        assert raised is not None
        assert raised.cursor == 2**31
        with SqlScoringUnitOfWork(writer) as u:
            through = u.evaluations.add(uscc, evaluation(700), NOW, 3)
            dispute = u.disputes.get(uscc, "objections/o-1")
            assert dispute is not None
            u.disputes.put(dispute.close(DisputeOutcome.CORRECTED, NOW, through.evaluation_id, None))
            assert u.alerts.ack("bank-a", raised.cursor) == 2**31
            u.commit()
        with SqlScoringUnitOfWork(writer) as u:
            assert [e.evaluation_id for e in u.evaluations.history(uscc, None, 10)] == [2**31 + 1, 2**31, last_32_bit]
            got = u.evaluations.get(uscc, 2**31)
            assert got is not None
            assert got.evaluation == evaluation(600)
            assert u.evaluations.current_basis([uscc]) == {uscc: ("basic-v1", 3)}
            ended = u.disputes.get(uscc, "objections/o-1")
            assert ended is not None
            assert (ended.evaluation_id, ended.through_evaluation_id) == (2**31, 2**31 + 1)
            assert [a.cursor for a in u.alerts.after("bank-a", last_32_bit, 10)] == [2**31]
            assert u.alerts.acked("bank-a") == 2**31
    finally:
        engine.dispose()


def test_acknowledgement_only_moves_forward(uow: UowFactory) -> None:
    with uow() as u:
        assert u.alerts.acked("bank-a") == 0
        assert u.alerts.ack("bank-a", 4) == 4
        u.commit()
    with uow() as u:
        assert u.alerts.ack("bank-a", 2) == 4
        u.commit()
    with uow() as u:
        assert u.alerts.acked("bank-a") == 4


def test_loans_keep_repayments_and_leave_monitoring_when_closed(uow: UowFactory) -> None:
    entry = LoanEntry(
        "loan-1",
        "bank-a",
        "91610100MA6TEST001",
        "xian",
        "610100",
        Decimal("1000.50"),
        12,
        True,
        False,
        True,
        date(2026, 6, 1),
        LoanStatus.OUTSTANDING,
        NOW,
    )
    with uow() as u:
        u.loans.add(entry)
        u.commit()
    with uow() as u:
        assert u.loans.outstanding_for("91610100MA6TEST001", for_update=True) == [entry]
        got = u.loans.get("loan-1")
        assert got == entry
        u.loans.save(
            LoanEntry(
                **{**got.__dict__, "repayments": ((date(2026, 7, 1), Decimal("1000.50")),), "status": LoanStatus.CLOSED}
            )
        )
        u.commit()
    with uow() as u:
        assert u.loans.outstanding_for("91610100MA6TEST001") == []
        closed = u.loans.get("loan-1")
        assert closed is not None
        assert closed.outstanding_yuan == 0
        assert len(u.loans.all()) == 1


def test_cursors_and_request_ids_are_kept(uow: UowFactory) -> None:
    with uow() as u:
        assert u.cursors.load("registry.records") == 0
        u.cursors.save("registry.records", 42)
        u.requests.put("RepayLoan", "r1", "fp", "loan-1")
        u.platforms.put("xian", "610100")
        u.commit()
    with uow() as u:
        assert u.cursors.load("registry.records") == 42
        assert u.requests.get("RepayLoan", "r1") == ("fp", "loan-1")
        assert u.platforms.region("xian") == "610100"


def test_an_evaluation_is_got_by_id_only_for_its_enterprise(uow: UowFactory) -> None:
    with uow() as u:
        made = u.evaluations.add("91610100MA6TEST001", evaluation(600), NOW, 3)
        u.commit()
    with uow() as u:
        got = u.evaluations.get("91610100MA6TEST001", made.evaluation_id)
        assert got is not None
        assert got.evaluation == evaluation(600)
        assert u.evaluations.get("91610100MA6TEST002", made.evaluation_id) is None
        assert u.evaluations.get("91610100MA6TEST001", made.evaluation_id + 100) is None


def test_evaluation_disputes_round_trip_per_enterprise_and_objection(uow: UowFactory) -> None:
    from services.scoring.domain.disputes import DisputeOutcome, open_dispute

    first = open_dispute("91610100MA6TEST001", "objections/o-1", 4, NOW)
    second = open_dispute("91610100MA6TEST001", "objections/o-2", 5, NOW.replace(hour=13))
    with uow() as u:
        u.disputes.put(second)
        u.disputes.put(first)
        u.disputes.put(open_dispute("91610100MA6TEST002", "objections/o-3", 9, NOW))
        u.commit()
    ended = first.close(DisputeOutcome.UNVERIFIABLE, NOW.replace(hour=14), 6, "数据来源有误")
    with uow() as u:
        assert u.disputes.get("91610100MA6TEST001", "objections/o-1") == first
        u.disputes.put(ended)
        u.commit()
    with uow() as u:
        assert u.disputes.for_enterprise("91610100MA6TEST001") == [ended, second]
        assert u.disputes.get("91610100MA6TEST002", "objections/o-1") is None
