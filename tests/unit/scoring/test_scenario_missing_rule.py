"""A scenario that re-bins an indicator keeps the base's missing rule as a rule, not as the base's points."""

from __future__ import annotations

from services.scoring.domain.engine import evaluate_values
from services.scoring.domain.model import Model
from services.scoring.domain.scenario import compile_scenario


def _scenario(model: Model, **age: object) -> Model:
    doc = {
        "version": "bank-x-young-firms-v1",
        "base": "basic-v1",
        "indicators": [
            {"code": "years_in_business", "weight": 0.5, **age},
            {"code": "registered_capital", "weight": 0.5},
        ],
    }
    return compile_scenario(doc, model)


def test_a_rebinned_indicator_whose_base_gives_the_worst_points_to_a_missing_value_still_does(model: Model) -> None:
    # basic-v1: a missing years_in_business gets the worst points (its worst bin has 10). The scenario's bins run from
    # 0 points: a firm whose age is unknown must not score better than one known to be under a year old.
    bins = [{"upper": 1, "points": 0}, {"lower": 1, "upper": 3, "points": 50}, {"lower": 3, "points": 100}]
    card = _scenario(model, bins=bins).card
    age = next(i for i in card.indicators if i.code == "years_in_business")
    assert age.missing_points == 0.0
    unknown = evaluate_values(card, {"years_in_business": None, "registered_capital": 1e8}).contributions[0]
    youngest = evaluate_values(card, {"years_in_business": 0.5, "registered_capital": 1e8}).contributions[0]
    assert unknown.points <= youngest.points == 0.0


def test_a_rebinned_indicator_keeps_fixed_missing_points_and_exclusion(model: Model) -> None:
    bins = [{"upper": 1, "points": 0}, {"lower": 1, "points": 100}]
    # the base's fixed points and exclusion are rules of their own: re-binning leaves them as they were
    assert _scenario(model, bins=bins, missing={"rule": "points", "points": 40}).card.indicators[0].missing_points == 40
    excluded = _scenario(model, bins=bins, missing={"rule": "exclude"}).card.indicators[0]
    assert excluded.missing_points is None
    # an override of the missing rule alone applies to the base's bins
    worst = _scenario(model, missing={"rule": "worst"}).card.indicators[0]
    assert worst.missing_points == 10.0
