"""Objections on evaluations in scoring's use cases: lookup by name, the in-dispute flag, outcomes, re-evaluation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.kit.errors import FailedPrecondition, InvalidArgument, NotFound
from services.scoring import usecases
from services.scoring.api.servicer import portrait as portrait_proto
from services.scoring.data import model_text
from services.scoring.domain.disputes import DisputeOutcome
from tests.unit.scoring_service.fakes import FakeConsent, FakeRecordSource, FakeUnitOfWork, Store
from tests.unit.scoring_service.test_usecases import enforcement

USCC = "91610100MA6TEST001"
OTHER = "91610100MA6TEST002"
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
OBJ = "objections/o-1"


@pytest.fixture
def world() -> tuple[usecases.Scoring, Store, FakeRecordSource]:
    store, records = Store(), FakeRecordSource()
    sc = usecases.Scoring(
        writer=lambda: FakeUnitOfWork(store),
        reader=lambda: FakeUnitOfWork(store),
        records=records,
        consent=FakeConsent(),
        clock=lambda: NOW,
    )
    usecases.ensure_model(sc, model_text())
    usecases.on_enterprise(sc, USCC, "xian", True)
    usecases.on_enterprise(sc, OTHER, "xian", True)
    return sc, store, records


World = tuple[usecases.Scoring, Store, FakeRecordSource]


def test_an_evaluation_is_found_by_name_only_under_its_own_enterprise(world: World) -> None:
    sc, _, _ = world
    current = usecases.get_evaluation(sc, USCC)
    assert usecases.evaluation_by_name(sc, USCC, current.evaluation_id).evaluation_id == current.evaluation_id
    for uscc, evaluation_id in ((OTHER, current.evaluation_id), (USCC, 999)):
        with pytest.raises(NotFound) as err:
            usecases.evaluation_by_name(sc, uscc, evaluation_id)
        assert err.value.reason == "ERROR_REASON_EVALUATION_NOT_FOUND"


def test_the_flag_is_set_once_and_carried_to_a_reevaluation_while_open(world: World) -> None:
    sc, store, _ = world
    disputed = usecases.get_evaluation(sc, USCC).evaluation_id
    flagged = usecases.set_dispute(sc, USCC, disputed, OBJ)
    assert (flagged.dispute.in_dispute, flagged.dispute.objection) == (True, OBJ)
    usecases.set_dispute(sc, USCC, disputed, OBJ)  # redelivered
    assert len(store.disputes) == 1
    later = usecases.reevaluate(sc, USCC, "", "")
    assert later.evaluation_id > disputed
    assert later.dispute.in_dispute
    assert not usecases.get_evaluation(sc, OTHER).dispute.in_dispute


def test_corrected_reevaluation_then_clear_shows_a_new_evaluation_without_the_flag(world: World) -> None:
    sc, _, records = world
    disputed = usecases.get_evaluation(sc, USCC).evaluation_id
    usecases.set_dispute(sc, USCC, disputed, OBJ)
    records.add(USCC, enforcement("e1", status="CLOSED"))
    fresh = usecases.reevaluate(sc, USCC, "req-1", "fp-1")
    again = usecases.reevaluate(sc, USCC, "req-1", "fp-1")  # a retry returns the same evaluation
    assert again.evaluation_id == fresh.evaluation_id
    with pytest.raises(InvalidArgument):
        usecases.reevaluate(sc, USCC, "req-1", "fp-other")
    cleared = usecases.clear_dispute(sc, USCC, disputed, OBJ, DisputeOutcome.CORRECTED, None)
    assert not cleared.dispute.in_dispute
    current = usecases.get_evaluation(sc, USCC)
    assert current.evaluation_id == fresh.evaluation_id
    assert not current.dispute.in_dispute
    assert not current.dispute.unverifiable
    assert current.dispute.statements == ()
    # Redelivered: a replay; another outcome afterwards is refused.
    usecases.clear_dispute(sc, USCC, disputed, OBJ, DisputeOutcome.CORRECTED, None)
    with pytest.raises(FailedPrecondition):
        usecases.clear_dispute(sc, USCC, disputed, OBJ, DisputeOutcome.UPHELD, None)


def test_an_upheld_evaluation_shows_the_statement_attached_afterwards(world: World) -> None:
    sc, _, _ = world
    disputed = usecases.get_evaluation(sc, USCC).evaluation_id
    with pytest.raises(NotFound) as err:  # before the dispute is known: retried by the sender
        usecases.attach_statement(sc, USCC, disputed, OBJ, "已按期缴纳")
    assert err.value.reason == "ERROR_REASON_EVALUATION_DISPUTE_NOT_FOUND"
    usecases.set_dispute(sc, USCC, disputed, OBJ)
    usecases.clear_dispute(sc, USCC, disputed, OBJ, DisputeOutcome.UPHELD, None)
    shown = usecases.attach_statement(sc, USCC, disputed, OBJ, "已按期缴纳")
    assert (shown.dispute.in_dispute, shown.dispute.statements) == (False, ("已按期缴纳",))
    assert usecases.get_evaluation(sc, USCC).dispute.statements == ("已按期缴纳",)


def test_an_outcome_before_its_flag_records_both_and_a_late_flag_does_not_reopen(world: World) -> None:
    sc, _, _ = world
    disputed = usecases.get_evaluation(sc, USCC).evaluation_id
    marked = usecases.clear_dispute(sc, USCC, disputed, OBJ, DisputeOutcome.UNVERIFIABLE, "数据来源有误")
    assert (marked.dispute.in_dispute, marked.dispute.unverifiable) == (False, True)
    late = usecases.set_dispute(sc, USCC, disputed, OBJ)
    assert not late.dispute.in_dispute
    assert usecases.evaluation_history(sc, USCC, None, 10)[0].dispute.statements == ("数据来源有误",)


def test_one_objection_disputes_one_evaluation(world: World) -> None:
    sc, _, _ = world
    disputed = usecases.get_evaluation(sc, USCC).evaluation_id
    usecases.set_dispute(sc, USCC, disputed, OBJ)
    newer = usecases.reevaluate(sc, USCC, "", "").evaluation_id
    with pytest.raises(InvalidArgument):
        usecases.set_dispute(sc, USCC, newer, OBJ)


def test_an_enterprise_scoring_does_not_follow_cannot_be_reevaluated(world: World) -> None:
    sc, _, _ = world
    with pytest.raises(NotFound) as err:
        usecases.reevaluate(sc, "91610100MA6TEST003", "", "")
    assert err.value.reason == "ERROR_REASON_ENTERPRISE_NOT_FOUND"


def test_a_portrait_is_in_dispute_while_an_objection_to_the_evaluation_is_open(world: World) -> None:
    sc, _, _ = world
    assert usecases.get_portrait(sc, USCC).objection == ""
    disputed = usecases.get_evaluation(sc, USCC).evaluation_id
    usecases.set_dispute(sc, USCC, disputed, OBJ)
    assert usecases.get_portrait(sc, USCC).objection == OBJ
    shown = portrait_proto(USCC, usecases.get_portrait(sc, USCC))
    assert (shown.in_dispute, shown.dispute_objection) == (True, OBJ)
    assert usecases.get_portrait(sc, OTHER).objection == ""
    usecases.clear_dispute(sc, USCC, disputed, OBJ, DisputeOutcome.UPHELD, None)
    assert usecases.get_portrait(sc, USCC).objection == ""
