"""Fitting a scenario from outcomes: monotone WoE bins, a logistic regression, a valid scenario ranking like the fit."""

from __future__ import annotations

import numpy as np
import pytest

from services.kit.errors import InvalidArgument
from services.scoring.domain.engine import evaluate_batch
from services.scoring.domain.fitting import FIT_DATA_INSUFFICIENT, MIN_BIN_COUNT, bin_feature, fit
from services.scoring.domain.metrics import auc
from services.scoring.domain.model import Model
from services.scoring.domain.scenario import compile_scenario


def outcomes(n: int = 3000, seed: int = 4) -> tuple[dict[str, np.ndarray], np.ndarray]:
    rng = np.random.default_rng(seed)
    risk = rng.standard_normal(n)
    bad = rng.random(n) < 1 / (1 + np.exp(-(-2.0 + 1.5 * risk)))
    grade = np.clip(np.round(3 - risk + rng.normal(0, 0.8, n)), 1, 5)
    cases = rng.poisson(np.exp(-1.5 + 0.8 * risk)).astype(float)
    trend = -0.2 * risk + rng.normal(0, 0.3, n)
    trend[rng.random(n) < 0.2] = np.nan
    noise = rng.standard_normal(n)
    return {"tax_credit_grade": grade, "open_enforcement_cases": cases, "tax_paid_trend": trend, "patents": noise}, bad


def test_bins_are_monotone_and_big_enough() -> None:
    columns, bad = outcomes()
    b = bin_feature("tax_credit_grade", columns["tax_credit_grade"], bad, max_bins=5, min_bin_share=0.05)
    assert 2 <= len(b.woe) <= 5
    assert all(x > y for x, y in zip(b.bad_rates, b.bad_rates[1:], strict=False))  # a better grade, fewer defaults
    assert min(b.counts) >= 0.05 * bad.size
    assert b.iv > 0.1


def test_a_fitted_scenario_is_valid_and_ranks_out_of_sample(model: Model) -> None:
    columns, bad = outcomes()
    fitted = fit({k: v[:2000] for k, v in columns.items()}, bad[:2000])
    assert "patents" in fitted.dropped  # pure noise carries no information
    scenario = compile_scenario(fitted.scenario("bank-x-fitted-v1", "basic-v1"), model)
    no_listing = np.zeros(1000)  # the discipline trigger columns the scenario inherits
    table = np.column_stack(
        [columns.get(c, no_listing)[2000:] if c in columns else no_listing for c in scenario.card.columns]
    )
    scores = evaluate_batch(scenario.card, table).scores
    assert auc(bad[2000:], -scores.astype(float)) > 0.7  # the hidden risk itself reaches 0.80 here
    assert scenario.card.triggers == model.card.triggers  # discipline comes with the base


def test_scores_rank_exactly_as_the_fitted_log_odds() -> None:
    columns, bad = outcomes()
    fitted = fit(columns, bad)
    card = fitted.scorecard("f-v1", (900, 820, 740, 660, 580, 500, 420, 340, 0))
    table = np.column_stack([columns[c] for c in card.columns])
    raw = evaluate_batch(card, table).raw
    log_odds = fitted.log_odds_bad({c: columns[c] for c in card.columns})
    assert np.corrcoef(raw, -log_odds)[0, 1] == pytest.approx(1.0)


def test_too_few_defaults_cannot_be_fitted() -> None:
    columns, bad = outcomes(200)
    bad[:] = False
    bad[:5] = True
    with pytest.raises(InvalidArgument) as caught:
        fit(columns, bad)
    assert caught.value.reason == FIT_DATA_INSUFFICIENT


def test_every_bin_holds_at_least_a_few_enterprises() -> None:
    # 40 outcomes: 5% of the rows is 2, so two enterprises could make a bin (and an edge between their values).
    rng = np.random.default_rng(0)
    x = rng.normal(size=40)
    bad = (x + rng.normal(scale=0.5, size=40)) > 0
    b = bin_feature("f", x, bad)
    assert min(b.counts) >= MIN_BIN_COUNT
