"""Evaluation: score, grade, explanation, coverage, discipline; the batch path equals the single path exactly."""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal

import numpy as np
import pytest

from services.scoring.domain.engine import CHUNK_ROWS, assess, evaluate, evaluate_batch, extract, row_of
from services.scoring.domain.model import GRADES, Bins, Linear, Model, Scorecard, ScoredIndicator, Trigger
from services.scoring.domain.synthetic import generate
from tests.unit.scoring.builders import AS_OF, Records

MINS = (900.0, 820.0, 740.0, 660.0, 580.0, 500.0, 420.0, 340.0, 0.0)


def small_card() -> Scorecard:
    binned = ScoredIndicator(
        "a",
        "a",
        "basic",
        0.5,
        "higher_is_better",
        Bins((1.0, 3.0), (0.0, 50.0, 100.0), ("lo", "mid", "hi")),
        None,
        20.0,
    )
    line = ScoredIndicator("b", "b", "tax", 0.3, "higher_is_better", None, Linear(0.0, 10.0), 0.0)
    optional = ScoredIndicator(
        "c", "c", "operations", 0.2, "lower_is_better", Bins((1.0,), (100.0, 0.0), ("none", "some")), None, None
    )
    return Scorecard("t-v1", (binned, line, optional), MINS, (Trigger("flag", "DISCIPLINED"),), "CCC")


def test_score_is_weighted_points_scaled_to_1000() -> None:
    ev = evaluate(small_card(), [3.0, 5.0, 0.0, 0.0])
    # 10 x (100 x 0.5 + 50 x 0.3 + 100 x 0.2) = 850
    assert ev.score == 850
    assert ev.grade == "AA"
    assert [c.contribution for c in ev.contributions] == pytest.approx([500.0, 150.0, 200.0])
    assert ev.coverage == pytest.approx(1.0)
    assert ev.flags == ()
    assert not ev.capped


def test_a_value_on_a_bound_falls_in_the_upper_bin() -> None:
    ev = evaluate(small_card(), [1.0, 10.0, 0.0, 0.0])
    assert ev.contributions[0].bin == "mid"


def test_missing_values_follow_their_rule_and_lower_coverage() -> None:
    ev = evaluate(small_card(), [math.nan, 10.0, math.nan, 0.0])
    # a: missing -> 20 points; c: excluded, so the remaining weights 0.5 + 0.3 are scaled to 1
    assert ev.contributions[2].excluded
    assert ev.contributions[2].contribution == 0.0
    assert ev.score == round(10 * (20 * 0.5 + 100 * 0.3) / 0.8)
    assert ev.coverage == pytest.approx(0.3)
    assert sum(c.contribution for c in ev.contributions) == pytest.approx(ev.raw_score)


def test_discipline_caps_the_grade_and_flags_the_evaluation() -> None:
    ev = evaluate(small_card(), [3.0, 10.0, 0.0, 1.0])
    assert ev.flags == ("DISCIPLINED",)
    assert ev.grade == "CCC"
    assert ev.score == 499
    assert ev.capped
    assert ev.discipline_adjustment == 499 - 1000


def test_a_low_score_is_not_raised_by_the_cap() -> None:
    ev = evaluate(small_card(), [0.0, 0.0, 5.0, 1.0])
    assert (ev.score, ev.grade, ev.capped) == (0, "C", False)
    assert ev.flags == ("DISCIPLINED",)


def test_the_cap_keeps_the_highest_whole_score_under_a_fractional_cut_off() -> None:
    # Scenario cut-offs are doubles: with B at 500.5 a score of 500 is already CCC, and 500 is what the cap keeps.
    mins = (900.0, 820.0, 740.0, 660.0, 580.0, 500.5, 420.0, 340.0, 0.0)
    line = ScoredIndicator("a", "a", "basic", 1.0, "higher_is_better", None, Linear(0.0, 100.0), 0.0)
    card = Scorecard("t-v1", (line,), mins, (Trigger("flag", "DISCIPLINED"),), "CCC")
    rows = [[50.0, 1.0], [70.0, 1.0]]
    batch = evaluate_batch(card, rows)
    for i, row in enumerate(rows):
        for ev in (evaluate(card, row), batch.evaluation(i)):
            assert (ev.score, ev.grade) == (500, "CCC")
            assert ev.capped is (i == 1)  # a score already in the capped grade is not capped


def test_batch_equals_single_for_random_tables(model: Model) -> None:
    rng = np.random.default_rng(5)
    n, k = 400, len(model.card.columns)
    table = rng.normal(0.0, 1.0, (n, k)) * rng.choice([0.1, 1.0, 10.0, 1e6], (n, k))
    table[rng.random((n, k)) < 0.15] = np.nan
    table[:, -2:] = rng.random((n, 2)) < 0.05  # discipline triggers
    batch = evaluate_batch(model.card, table)
    for i in range(n):
        assert batch.evaluation(i) == evaluate(model.card, table[i])


def test_batch_equals_single_for_synthetic_enterprises(model: Model) -> None:
    population = generate(150, seed=11)
    singles = [assess(model, recs, population.as_of).evaluation for recs in population.records]
    table = np.array([row_of(model.card, extract(model, recs, population.as_of)) for recs in population.records])
    batch = evaluate_batch(model.card, table)
    assert [batch.evaluation(i) for i in range(150)] == [s.without_evidence() for s in singles]
    assert len({s.grade for s in singles}) > 3


def test_batch_handles_more_rows_than_one_chunk() -> None:
    card = small_card()
    pairs = CHUNK_ROWS // 2 + 7  # the last chunk is partial
    rows = np.tile([[3.0, 5.0, np.nan, 0.0], [0.0, 0.0, 2.0, 1.0]], (pairs, 1))
    batch = evaluate_batch(card, rows)
    assert batch.scores[::2].tolist() == [evaluate(card, rows[0]).score] * pairs
    assert set(batch.grades[1::2].tolist()) == {GRADES.index("C")}


def test_a_table_of_the_wrong_width_is_refused() -> None:
    with pytest.raises(ValueError, match="table must be"):
        evaluate_batch(small_card(), np.zeros((2, 3)))


def test_a_disciplined_enterprise_is_capped_and_shows_evidence(model: Model, records: Records) -> None:
    records.add(
        "REG_BASIC", established_on=date(2005, 1, 1), status="ACTIVE", registered_capital_yuan=Decimal(50_000_000)
    )
    records.add("TAX_CREDIT_GRADE", year=2025, grade="A")
    listing = records.add("DISCIPLINE_MALICIOUS_EVASION", established_on=date(2026, 6, 1), decision_number="d")
    result = assess(model, records.items, AS_OF)
    ev = result.evaluation
    assert ev.flags == ("MALICIOUS_DEBT_EVASION",)
    assert ev.grade_index >= GRADES.index("CCC")
    assert ev.score <= 499
    listed = next(c for c in ev.contributions if c.indicator == "dishonesty_listings_active")
    assert [r.record_id for r in listed.evidence] == [listing.record_id]
    assert ev.model_version == "basic-v1"
