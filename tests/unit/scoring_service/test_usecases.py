"""Scoring use cases against in-memory fakes: evaluation on registration and change, alerts, idempotency, loans."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from services.kit.errors import FailedPrecondition, InvalidArgument, NotFound
from services.scoring import usecases
from services.scoring.data import model_text
from services.scoring.domain.ports import Alert, LoanStatus
from services.scoring.domain.problems import ModelRejected
from services.scoring.domain.records import Record
from tests.unit.scoring_service.fakes import FakeConsent, FakeRecordSource, Store

USCC = "91610100MA6TEST001"
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
World = tuple[usecases.Scoring, Store, FakeRecordSource, FakeConsent]


def enforcement(record_id: str, status: str = "OPEN", version: int = 1) -> Record:
    fields = {"case_number": record_id, "filed_on": date(2026, 5, 1), "amount_yuan": Decimal(1000), "status": status}
    return Record(record_id, "COURT_ENFORCEMENT", fields, datetime(2026, 5, 1, tzinfo=UTC), version)


def loan(sc: usecases.Scoring, loan_id: str = "loan-1", institution: str = "bank-a") -> None:
    usecases.report_loan(
        sc,
        usecases.NewLoan(loan_id, institution, USCC, "xian", Decimal(1000), 12, True, True, True, date(2026, 6, 1)),
    )


def test_a_registered_enterprise_gets_a_basic_evaluation(world: World) -> None:
    sc, store, _, _ = world
    usecases.on_enterprise(sc, USCC, "xian", True)
    got = usecases.get_evaluation(sc, USCC)
    assert got.evaluation.model_version == "basic-v1"
    assert store.enterprises[USCC].platform_id == "xian"


def test_an_unknown_enterprise_has_no_evaluation(world: World) -> None:
    sc, _, _, _ = world
    with pytest.raises(NotFound) as err:
        usecases.get_evaluation(sc, USCC)
    assert err.value.reason == "ERROR_REASON_EVALUATION_NOT_FOUND"


def test_an_enterprise_the_registry_removed_has_no_current_evaluation_but_keeps_its_history(world: World) -> None:
    sc, _, _, _ = world
    usecases.on_enterprise(sc, USCC, "xian", True)
    evaluated = usecases.get_evaluation(sc, USCC)
    usecases.on_enterprise(sc, USCC, "", False)
    for current in (usecases.get_evaluation, usecases.get_portrait):
        with pytest.raises(NotFound) as err:
            current(sc, USCC)
        assert err.value.reason == "ERROR_REASON_EVALUATION_NOT_FOUND"
    assert usecases.evaluation_by_name(sc, USCC, evaluated.evaluation_id).evaluation == evaluated.evaluation
    usecases.on_enterprise(sc, USCC, "xian", True)  # registered again
    assert usecases.get_evaluation(sc, USCC).evaluation == evaluated.evaluation


def test_a_replayed_record_change_is_processed_once(world: World) -> None:
    sc, store, records, _ = world
    usecases.on_enterprise(sc, USCC, "xian", True)
    revision = records.add(USCC, enforcement("e1"))
    usecases.on_record_change(sc, USCC, revision)
    count = len(store.evaluations)
    calls = records.calls
    usecases.on_record_change(sc, USCC, revision)
    assert len(store.evaluations) == count
    assert records.calls == calls


def test_two_replicas_handling_one_change_at_once_evaluate_once(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # Every scoring replica follows the same record watch. Here the other replica handles the change while this one
    # asks consent about an alert (after its last read, before its write): this one must find it done.
    sc, store, records, consent = world
    usecases.on_enterprise(sc, USCC, "xian", True)
    loan(sc)
    consent.allowed.add(("bank-a", USCC))
    revision = records.add(USCC, enforcement("e1"))
    check = consent.check

    def check_while_the_other_replica_works(institution_id: str, uscc: str, items: object):  # type: ignore[no-untyped-def]
        monkeypatch.setattr(consent, "check", check)
        usecases.on_record_change(sc, USCC, revision)  # the other replica, all the way to its commit
        return check(institution_id, uscc, items)  # type: ignore[arg-type]

    count = len(store.evaluations)
    monkeypatch.setattr(consent, "check", check_while_the_other_replica_works)
    usecases.on_record_change(sc, USCC, revision)
    assert len(store.evaluations) == count + 1


def test_an_authorized_lender_gets_an_alert_for_a_new_enforcement_case(world: World) -> None:
    sc, _store, records, consent = world
    usecases.on_enterprise(sc, USCC, "xian", True)
    loan(sc)
    consent.allowed.add(("bank-a", USCC))
    usecases.on_record_change(sc, USCC, records.add(USCC, enforcement("e1")))
    alerts, cursor = usecases.deliverable_alerts(sc, "bank-a", 0, 100)
    risks = [a.risk for a in alerts]
    assert "NEW_ENFORCEMENT" in risks
    assert cursor == alerts[-1].cursor
    assert ("bank-a", USCC, ("COURT_ENFORCEMENT",)) in consent.asked


def test_without_authorization_the_alert_is_withheld(world: World) -> None:
    sc, store, records, _ = world
    usecases.on_enterprise(sc, USCC, "xian", True)
    loan(sc)
    usecases.on_record_change(sc, USCC, records.add(USCC, enforcement("e1")))
    assert store.alerts
    assert not any(ok for _, ok in store.alerts)
    assert usecases.deliverable_alerts(sc, "bank-a", 0, 100)[0] == []


def test_authorization_withdrawn_after_the_alert_stops_its_delivery(world: World) -> None:
    sc, _, records, consent = world
    usecases.on_enterprise(sc, USCC, "xian", True)
    loan(sc)
    consent.allowed.add(("bank-a", USCC))
    usecases.on_record_change(sc, USCC, records.add(USCC, enforcement("e1")))
    consent.allowed.clear()
    alerts, cursor = usecases.deliverable_alerts(sc, "bank-a", 0, 100)
    assert alerts == []
    assert cursor > 0


def test_no_alert_without_an_outstanding_loan(world: World) -> None:
    sc, store, records, consent = world
    usecases.on_enterprise(sc, USCC, "xian", True)
    consent.allowed.add(("bank-a", USCC))
    usecases.on_record_change(sc, USCC, records.add(USCC, enforcement("e1")))
    assert store.alerts == []


def _alerts(sc: usecases.Scoring, institution: str, count: int) -> None:
    with sc.writer() as uow:
        for i in range(count):
            at = datetime(2026, 6, 1, tzinfo=UTC)
            uow.alerts.add(
                Alert(0, institution, "U", "loan-1", "R", "LOW", "r", (), (), f"{institution}-{i}", at), True
            )
        uow.commit()


def test_ack_never_goes_back(world: World) -> None:
    sc, _, _, _ = world
    _alerts(sc, "bank-a", 5)
    assert usecases.ack_alerts(sc, "bank-a", 5) == 5
    assert usecases.ack_alerts(sc, "bank-a", 3) == 5
    assert usecases.start_cursor(sc, "bank-a", 0) == 5


def test_ack_never_reaches_alerts_not_raised_yet(world: World) -> None:
    sc, _, _, _ = world
    assert usecases.ack_alerts(sc, "bank-a", 10**12) == 0
    _alerts(sc, "bank-b", 2)
    _alerts(sc, "bank-a", 1)
    assert usecases.ack_alerts(sc, "bank-a", 10**12) == 3  # its last alert's cursor, not another's
    _alerts(sc, "bank-a", 1)
    assert usecases.start_cursor(sc, "bank-a", 0) == 3  # the alert raised since is still to come


def test_publishing_a_broken_model_names_the_problems(world: World) -> None:
    sc, _, _, _ = world
    with pytest.raises(ModelRejected) as err:
        usecases.publish_model(sc, "version: v\n")
    assert err.value.reason == "ERROR_REASON_MODEL_REJECTED"
    assert err.value.problems


def test_publishing_reevaluates_everyone_in_batch(world: World) -> None:
    sc, _, _records, _ = world
    for i in range(3):
        usecases.on_enterprise(sc, f"91610100MA6TEST00{i}", "xian", True)
    v2 = model_text().replace("version: basic-v1", "version: basic-v2")
    _, count = usecases.publish_model(sc, v2)
    assert count == 3
    assert usecases.get_evaluation(sc, "91610100MA6TEST001").evaluation.model_version == "basic-v2"
    # A retry of the same publication (its answer lost) evaluates nobody twice.
    _, again = usecases.publish_model(sc, v2)
    assert again == 0
    history = usecases.evaluation_history(sc, "91610100MA6TEST001", None, 10)
    assert [e.evaluation.model_version for e in history] == ["basic-v2", "basic-v1"]


def test_a_repayment_replay_is_not_counted_twice_and_a_closed_loan_takes_no_more(world: World) -> None:
    sc, _, _, _ = world
    usecases.on_enterprise(sc, USCC, "xian", True)
    loan(sc)
    first = usecases.repay_loan(sc, "loan-1", Decimal(400), date(2026, 7, 1), False, "r1", "f1")
    again = usecases.repay_loan(sc, "loan-1", Decimal(400), date(2026, 7, 1), False, "r1", "f1")
    assert first.outstanding_yuan == again.outstanding_yuan == Decimal(600)
    with pytest.raises(InvalidArgument):
        usecases.repay_loan(sc, "loan-1", Decimal(1), date(2026, 7, 1), False, "r1", "other")
    usecases.repay_loan(sc, "loan-1", Decimal(600), date(2026, 8, 1), False, "r2", "f2")
    with pytest.raises(FailedPrecondition):
        usecases.repay_loan(sc, "loan-1", Decimal(1), date(2026, 9, 1), False, "r3", "f3")


def test_a_repayment_dated_before_the_loan_was_granted_is_refused(world: World) -> None:
    sc, _, _, _ = world
    usecases.on_enterprise(sc, USCC, "xian", True)
    loan(sc)  # granted on 1 June 2026
    with pytest.raises(InvalidArgument) as err:
        usecases.repay_loan(sc, "loan-1", Decimal(1000), date(2026, 5, 31), True, "r1", "f1")
    assert err.value.metadata["field"] == "repaid_on"
    settled = usecases.repay_loan(sc, "loan-1", Decimal(1000), date(2026, 6, 1), True, "r2", "f2")
    assert (settled.status, settled.closed_on) == (LoanStatus.CLOSED, date(2026, 6, 1))


def test_a_loan_needs_a_known_enterprise(world: World) -> None:
    sc, _, _, _ = world
    with pytest.raises(NotFound):
        loan(sc)


USCC_B = "91610100MA6TEST002"


def reg_basic(record_id: str) -> Record:
    fields = {"established_on": date(2010, 1, 1), "registered_capital_yuan": Decimal(20_000_000), "status": "ACTIVE"}
    return Record(record_id, "REG_BASIC", fields, datetime(2010, 1, 1, tzinfo=UTC))


def withdraw(records: FakeRecordSource, uscc: str, record_id: str) -> int:
    """The registry withdraws a record (a correction): it leaves the listing and the revision moves."""
    records.records[uscc] = [r for r in records.records[uscc] if r.record_id != record_id]
    records.revision += 1
    return records.revision


def test_the_same_score_drop_of_two_borrowers_alerts_for_both(world: World) -> None:
    # One lender, two borrowers, the same drop (same scores, no changed record): the keys must not clash.
    sc, _, records, consent = world
    for uscc, rid in ((USCC, "ra"), (USCC_B, "rb")):
        records.add(uscc, reg_basic(rid))
        usecases.on_enterprise(sc, uscc, "xian", True)
        consent.allowed.add(("bank-a", uscc))
        usecases.report_loan(
            sc, usecases.NewLoan("loan-" + rid, "bank-a", uscc, "xian", Decimal(1000), 12, True, True, True, NOW.date())
        )
    for uscc, rid in ((USCC, "ra"), (USCC_B, "rb")):
        revision = withdraw(records, uscc, rid)
        usecases.on_record_change(sc, uscc, revision)
        usecases.on_record_change(sc, uscc, revision)  # a replay alerts nobody twice
    alerts, _ = usecases.deliverable_alerts(sc, "bank-a", 0, 100)
    drops = sorted(a.uscc for a in alerts if a.risk == "SCORE_DROP")
    assert drops == [USCC, USCC_B]


def test_the_same_score_drop_of_one_borrower_later_again_is_a_new_alert(world: World) -> None:
    sc, _, records, consent = world
    records.add(USCC, reg_basic("ra"))
    usecases.on_enterprise(sc, USCC, "xian", True)
    consent.allowed.add(("bank-a", USCC))
    loan(sc)
    usecases.on_record_change(sc, USCC, withdraw(records, USCC, "ra"))
    usecases.on_record_change(sc, USCC, records.add(USCC, reg_basic("ra")))  # restored: the score is back
    usecases.on_record_change(sc, USCC, withdraw(records, USCC, "ra"))  # and withdrawn again
    alerts, _ = usecases.deliverable_alerts(sc, "bank-a", 0, 100)
    assert len([a for a in alerts if a.risk == "SCORE_DROP"]) == 2


def test_a_loan_closed_while_alerts_are_being_raised_gets_none(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # Consent is asked between reading the outstanding loans and writing the alerts: the loan is closed meanwhile.
    sc, store, records, consent = world
    usecases.on_enterprise(sc, USCC, "xian", True)
    loan(sc)
    consent.allowed.add(("bank-a", USCC))
    check = consent.check

    def check_while_the_loan_is_closed(institution_id: str, uscc: str, items: object):  # type: ignore[no-untyped-def]
        monkeypatch.setattr(consent, "check", check)
        usecases.repay_loan(sc, "loan-1", Decimal(1000), NOW.date(), True, "req-1", "fp")
        return check(institution_id, uscc, items)  # type: ignore[arg-type]

    monkeypatch.setattr(consent, "check", check_while_the_loan_is_closed)
    assert usecases.on_record_change(sc, USCC, records.add(USCC, enforcement("e1"))) == 0
    assert store.alerts == []
    assert usecases.get_evaluation(sc, USCC).record_revision == records.revision  # evaluated all the same


def test_publishing_never_makes_an_evaluation_from_superseded_records_current(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The batch evaluates the states it read; meanwhile the record watch evaluates a new record and commits.
    sc, store, records, _ = world
    records.add(USCC, reg_basic("ra"))
    usecases.on_enterprise(sc, USCC, "xian", True)
    real_batch = usecases.evaluate_batch

    def batch_while_the_watch_runs(card, table):  # type: ignore[no-untyped-def]
        monkeypatch.setattr(usecases, "evaluate_batch", real_batch)
        usecases.on_record_change(sc, USCC, records.add(USCC, enforcement("e1")))
        return real_batch(card, table)

    monkeypatch.setattr(usecases, "evaluate_batch", batch_while_the_watch_runs)
    _, count = usecases.publish_model(sc, model_text().replace("version: basic-v1", "version: basic-v2"))
    current = usecases.get_evaluation(sc, USCC)
    assert count == 0  # the watch's evaluation, already under basic-v2, stays current
    assert current.record_revision == store.enterprises[USCC].record_revision
    assert "e1" in {r.record_id for c in current.evaluation.contributions for r in c.evidence}


def test_publishing_evaluates_a_state_that_moved_during_the_batch_from_its_new_records(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    sc, store, records, _ = world
    records.add(USCC, reg_basic("ra"))
    usecases.on_enterprise(sc, USCC, "xian", True)
    real_batch = usecases.evaluate_batch
    moved = replace(store.enterprises[USCC], records=(*store.enterprises[USCC].records, enforcement("e1")))
    moved = replace(moved, record_revision=moved.record_revision + 1)

    def batch_while_the_state_moves(card, table):  # type: ignore[no-untyped-def]
        store.enterprises[USCC] = moved  # stored, not yet evaluated (as by a handler under the old model)
        return real_batch(card, table)

    monkeypatch.setattr(usecases, "evaluate_batch", batch_while_the_state_moves)
    _, count = usecases.publish_model(sc, model_text().replace("version: basic-v1", "version: basic-v2"))
    current = usecases.get_evaluation(sc, USCC)
    assert count == 1
    assert (current.evaluation.model_version, current.record_revision) == ("basic-v2", moved.record_revision)
    assert "e1" in {r.record_id for c in current.evaluation.contributions for r in c.evidence}


def test_fitting_refuses_an_enterprise_named_twice(world: World) -> None:
    # Twenty outcomes of one enterprise are not twenty enterprises: the minimum would pass with one.
    sc, _, records, _ = world
    for uscc, rid in ((USCC, "ra"), (USCC_B, "rb")):
        records.add(uscc, reg_basic(rid))
        usecases.on_enterprise(sc, uscc, "xian", True)
    with pytest.raises(InvalidArgument) as err:
        usecases.fit_scenario(sc, "bank-a", "probe", [(USCC, True)] * 20 + [(USCC_B, False)] * 20, [])
    assert err.value.reason == "ERROR_REASON_INVALID_FIELD"
    assert err.value.metadata["field"] == "outcomes"


def test_after_the_record_watch_restarts_a_change_below_an_old_mark_is_processed(world: World) -> None:
    # The registry restored from a backup: revisions go back (800 -> 500); the watch, told the revision was
    # compacted, starts again from 0, and the next change comes at 501, below the enterprise's processed 800.
    sc, store, records, _ = world
    records.revision = 800
    usecases.on_enterprise(sc, USCC, "xian", True)
    assert store.enterprises[USCC].record_revision == 800
    records.revision = 500
    usecases.restart_record_watch(sc)
    assert store.cursors.get(usecases.RECORDS_STREAM, 0) == 0
    usecases.on_record_change(sc, USCC, records.add(USCC, enforcement("e1")))
    current = usecases.get_evaluation(sc, USCC)
    assert "e1" in {r.record_id for c in current.evaluation.contributions for r in c.evidence}


def test_fitting_reads_only_the_institutions_own_borrowers(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # An outcome for an enterprise it never lent to would let an institution fit with and without that enterprise
    # and read its values off the difference.
    sc, _, records, _ = world
    for uscc, rid in ((USCC, "ra"), (USCC_B, "rb")):
        records.add(uscc, reg_basic(rid))
        usecases.on_enterprise(sc, uscc, "xian", True)
    loan(sc, institution="bank-a")  # to USCC only
    fitted: list[list[bool]] = []

    class Fitted(Exception):
        pass

    def spy(columns: object, bad: Sequence[bool]) -> None:
        fitted.append(list(bad))
        raise Fitted

    monkeypatch.setattr(usecases, "fit", spy)
    with pytest.raises(Fitted):
        usecases.fit_scenario(sc, "bank-a", "probe", [(USCC, True), (USCC_B, False)], [])
    with pytest.raises(Fitted):
        usecases.fit_scenario(sc, "bank-b", "probe", [(USCC, True), (USCC_B, False)], [])
    assert fitted == [[True], []]
