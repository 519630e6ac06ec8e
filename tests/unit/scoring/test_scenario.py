"""Scenario models: an institution's subset, weights and cut-offs, validated like a model, discipline kept."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from services.scoring.domain.engine import assess, evaluate_values
from services.scoring.domain.model import Model
from services.scoring.domain.portrait import portrait
from services.scoring.domain.problems import ModelRejected
from services.scoring.domain.scenario import check_scenario, compile_scenario
from tests.unit.scoring.builders import AS_OF, Records

TECH_LOAN: dict[str, Any] = {
    "version": "bank-x-tech-loan-v1",
    "base": "basic-v1",
    "indicators": [
        {"code": "tax_credit_grade", "weight": 0.4},
        {"code": "valid_honours", "weight": 0.3},
        {
            "code": "invention_patents",
            "weight": 0.3,
            "direction": "higher_is_better",
            "bins": [{"upper": 1, "points": 0}, {"lower": 1, "points": 100}],
            "missing": {"rule": "worst"},
        },
    ],
    "grades": {"AAA": 950, "AA": 900, "A": 800, "BBB": 700, "BB": 600, "B": 500, "CCC": 400, "CC": 300, "C": 0},
}


def with_indicators(*indicators: dict[str, Any]) -> dict[str, Any]:
    return {**TECH_LOAN, "indicators": list(indicators)}


def test_a_scenario_scores_a_subset_with_its_own_weights_and_cutoffs(model: Model, records: Records) -> None:
    scenario = compile_scenario(TECH_LOAN, model)
    records.add("TAX_CREDIT_GRADE", year=2025, grade="A")
    records.add("HONOR_HIGH_TECH", granted_on=date(2025, 1, 1), expires_on=date(2028, 1, 1), certificate_number="c")
    records.add("HONOR_PATENT", patent_type="INVENTION", granted_on=date(2024, 1, 1), patent_number="p")
    values = assess(model, records.items, AS_OF).values
    ev = evaluate_values(scenario.card, values)
    assert ev.model_version == "bank-x-tech-loan-v1"
    assert [c.indicator for c in ev.contributions] == ["tax_credit_grade", "valid_honours", "invention_patents"]
    assert ev.score == round(10 * (100 * 0.4 + 75 * 0.3 + 100 * 0.3))  # 925
    assert ev.grade == "AA"  # under the scenario's own cut-offs (AAA from 950)


def test_a_scenario_may_only_name_the_bases_indicators_and_signals(model: Model) -> None:
    doc = with_indicators({"code": "tax_credit_grade", "weight": 0.5}, {"code": "lottery_wins", "weight": 0.5})
    assert [p.code for p in check_scenario(doc, model)] == ["UNKNOWN_INDICATOR"]


def test_scenario_weights_must_add_up(model: Model) -> None:
    doc = with_indicators({"code": "tax_credit_grade", "weight": 0.5}, {"code": "patents", "weight": 0.4})
    assert [p.code for p in check_scenario(doc, model)] == ["WEIGHTS_SUM"]


def test_scenario_bins_with_a_gap_are_rejected(model: Model) -> None:
    doc = with_indicators(
        {
            "code": "patents",
            "weight": 1.0,
            "bins": [{"upper": 1, "points": 0}, {"lower": 2, "points": 100}],
        }
    )
    assert [p.code for p in check_scenario(doc, model)] == ["BIN_GAP"]


def test_a_scenario_cannot_drop_discipline(model: Model, records: Records) -> None:
    with pytest.raises(ModelRejected) as caught:
        compile_scenario({**TECH_LOAN, "discipline": {"cap": "AAA", "triggers": []}}, model)
    assert [p.code for p in caught.value.problems] == ["DISCIPLINE_LOCKED"]
    scenario = compile_scenario(TECH_LOAN, model)
    records.add("TAX_CREDIT_GRADE", year=2025, grade="A")
    records.add("HONOR_HIGH_TECH", granted_on=date(2025, 1, 1), expires_on=date(2028, 1, 1), certificate_number="c")
    records.add("COURT_DISHONEST_DEBTOR", listed_on=date(2026, 2, 1), case_number="k")
    assessment = assess(model, records.items, AS_OF)
    ev = evaluate_values(scenario.card, assessment.values)
    assert ev.flags == ("DISHONEST_JUDGMENT_DEBTOR",)
    assert ev.grade == "CCC"
    shown = portrait(scenario, assessment, ev)
    assert shown.flags == ("DISHONEST_JUDGMENT_DEBTOR",)
    assert "DISHONEST_DEBTOR" in [t.code for t in shown.risks]


def test_a_scenario_must_name_its_base(model: Model) -> None:
    assert [p.code for p in check_scenario({**TECH_LOAN, "base": "basic-v0"}, model)] == ["SCENARIO_BASE"]


def test_a_wrong_base_is_not_told_back(model: Model) -> None:
    # Whatever the sender put there may be personal data: the rejection says where, and what it must be.
    (problem,) = check_scenario({**TECH_LOAN, "base": "欧阳明珠"}, model)
    assert (problem.code, problem.where) == ("SCENARIO_BASE", "base")
    assert "欧阳明珠" not in str(problem)
    assert "basic-v1" in problem.detail
