"""Objections on evaluations: intake checks by name, routing to the scoring team, who may answer, outcomes, notices."""

from __future__ import annotations

import pytest

from services.kit.errors import AlreadyExists, NotFound, PermissionDenied
from services.objection.domain import (
    EVALUATION_HANDLER,
    CorrectionNoticeDue,
    DisputeFlagCleared,
    DisputeFlagRaised,
    DisputeRouted,
    EvaluationRef,
    NoticeChange,
    Objection,
    ObjectionStatus,
    Outcome,
    ReevaluationRequested,
    StatementAttached,
    TargetMarkedUnverifiable,
)
from tests.unit.objection.fakes import ACME, OTHER, TAX, World, bank, cst, platform

OWN = f"enterprises/{ACME}/evaluations/41"
FOREIGN = f"enterprises/{OTHER}/evaluations/42"


@pytest.fixture
def world() -> World:
    w = World()
    w.evaluations.add(OWN, ACME)
    w.evaluations.add(FOREIGN, OTHER)
    return w


def _file_on(world: World, name: str = OWN, **overrides: object) -> Objection:
    return world.file(records=(), evaluation=EvaluationRef(name), **overrides)


def test_an_evaluation_objection_raises_the_flag_and_is_routed_to_the_scoring_team(world: World) -> None:
    objection = _file_on(world)
    assert objection.status is ObjectionStatus.ROUTED
    assert objection.departments == frozenset({EVALUATION_HANDLER})
    events = objection.pull_events()
    assert [e.target for e in events if isinstance(e, DisputeFlagRaised)] == [EvaluationRef(OWN)]
    assert [e.department for e in events if isinstance(e, DisputeRouted)] == [EVALUATION_HANDLER]


def test_an_evaluation_of_another_enterprise_is_refused_whether_or_not_it_exists(world: World) -> None:
    for name in (FOREIGN, f"enterprises/{OTHER}/evaluations/999"):
        with pytest.raises(PermissionDenied) as err:
            _file_on(world, name)
        assert err.value.reason == "ERROR_REASON_OBJECTION_TARGET_NOT_OWNED"


def test_a_name_under_the_enterprise_that_scoring_places_elsewhere_is_not_owned(world: World) -> None:
    # The name says ACME, but the lookup answers another owner: the lookup decides, never the name.
    world.evaluations.add(f"enterprises/{ACME}/evaluations/43", OTHER)
    with pytest.raises(PermissionDenied):
        _file_on(world, f"enterprises/{ACME}/evaluations/43")


def test_an_unknown_evaluation_of_the_enterprise_is_not_found(world: World) -> None:
    with pytest.raises(NotFound) as err:
        _file_on(world, f"enterprises/{ACME}/evaluations/999")
    assert err.value.reason == "ERROR_REASON_OBJECTION_EVALUATION_NOT_FOUND"
    assert err.value.metadata == {"target_index": "0"}
    assert ACME not in err.value.message


def test_a_second_objection_on_the_same_evaluation_is_a_duplicate(world: World) -> None:
    _file_on(world)
    with pytest.raises(AlreadyExists) as err:
        _file_on(world)
    assert err.value.reason == "ERROR_REASON_OBJECTION_DUPLICATE"


def test_a_record_department_may_not_answer_an_evaluation_objection(world: World) -> None:
    objection = _file_on(world)
    with pytest.raises(PermissionDenied) as err:
        world.answer(objection, EvaluationRef(OWN), Outcome.UPHELD, cst(2025, 3, 12), department=TAX)
    assert err.value.reason == "ERROR_REASON_OBJECTION_NOT_ROUTED_TO_CALLER"
    assert objection.is_open


def test_the_scoring_team_may_not_answer_a_record_objection(world: World) -> None:
    objection = world.file()
    with pytest.raises(PermissionDenied) as err:
        world.answer(objection, world.tax_record, Outcome.UPHELD, cst(2025, 3, 12), department=EVALUATION_HANDLER)
    assert err.value.reason == "ERROR_REASON_OBJECTION_NOT_ROUTED_TO_CALLER"
    assert objection.is_open


def test_a_corrected_evaluation_asks_for_a_reevaluation_and_notifies_earlier_recipients(world: World) -> None:
    world.disclosures.disclose(bank(), ACME, "evaluation", cst(2025, 3, 10, 12))
    world.disclosures.disclose(platform(), ACME, "tax.arrears", cst(2025, 3, 10, 12))  # not the evaluation
    objection = _file_on(world)
    objection.pull_events()
    world.answer(objection, EvaluationRef(OWN), Outcome.CORRECTED, cst(2025, 3, 12), department=EVALUATION_HANDLER)
    events = objection.pull_events()
    cleared = [e for e in events if isinstance(e, DisputeFlagCleared)]
    assert [(e.target, e.outcome) for e in cleared] == [(EvaluationRef(OWN), Outcome.CORRECTED)]
    assert [e.enterprise for e in events if isinstance(e, ReevaluationRequested)] == [ACME]
    notices = {e.recipient: e.changes for e in events if isinstance(e, CorrectionNoticeDue)}
    assert notices == {bank(): (NoticeChange(EvaluationRef(OWN), "evaluation", Outcome.CORRECTED, None),)}


def test_an_upheld_evaluation_clears_the_flag_shows_the_statement_and_is_not_reevaluated(world: World) -> None:
    objection = _file_on(world, statement="评分未反映已结清的欠税")
    objection.pull_events()
    world.answer(objection, EvaluationRef(OWN), Outcome.UPHELD, cst(2025, 3, 12), department=EVALUATION_HANDLER)
    events = objection.pull_events()
    assert [e.outcome for e in events if isinstance(e, DisputeFlagCleared)] == [Outcome.UPHELD]
    assert [e.statement for e in events if isinstance(e, StatementAttached)] == ["评分未反映已结清的欠税"]
    assert not any(isinstance(e, ReevaluationRequested) for e in events)


def test_an_unverifiable_evaluation_is_marked_with_the_statement(world: World) -> None:
    objection = _file_on(world, statement="数据来源有误")
    objection.pull_events()
    world.answer(objection, EvaluationRef(OWN), Outcome.CANNOT_VERIFY, cst(2025, 3, 12), department=EVALUATION_HANDLER)
    events = objection.pull_events()
    marked = [e for e in events if isinstance(e, TargetMarkedUnverifiable)]
    assert [(e.target, e.statement) for e in marked] == [(EvaluationRef(OWN), "数据来源有误")]
    assert not any(isinstance(e, DisputeFlagCleared | ReevaluationRequested) for e in events)
    # Once resolved, the enterprise may replace its statement.
    objection.attach_statement(enterprise=ACME, target=EvaluationRef(OWN), statement="补充说明", at=cst(2025, 3, 13))
    assert [e.statement for e in objection.pull_events() if isinstance(e, StatementAttached)] == ["补充说明"]


def test_a_resolved_evaluation_can_be_disputed_again(world: World) -> None:
    first = _file_on(world)
    world.answer(first, EvaluationRef(OWN), Outcome.UPHELD, cst(2025, 3, 12), department=EVALUATION_HANDLER)
    second = _file_on(world, received_at=cst(2025, 4, 1), forwarded_at=cst(2025, 4, 1, 15))
    assert second.is_open


def test_an_evaluation_name_places_it_under_an_enterprise() -> None:
    assert EvaluationRef(OWN).named_enterprise == ACME
    for not_a_name in ("eval-1", "enterprises//evaluations/1", f"enterprises/{ACME}/records/1", f"{OWN}/x"):
        assert EvaluationRef(not_a_name).named_enterprise is None
