"""The labelled synthetic population: reproducible, and ranked by the basic model as its design intends."""

from __future__ import annotations

import numpy as np

from services.scoring.domain.engine import assess
from services.scoring.domain.metrics import auc
from services.scoring.domain.model import Model
from services.scoring.domain.synthetic import generate


def test_a_seed_gives_the_same_population() -> None:
    a, b = generate(50, seed=9), generate(50, seed=9)
    assert a.records == b.records
    assert (a.bad == b.bad).all()
    assert a.records != generate(50, seed=10).records


def test_the_basic_score_ranks_synthetic_defaults_below_the_latent_ceiling(model: Model) -> None:
    population = generate(1500, seed=3)
    scores = np.array([assess(model, r, population.as_of).evaluation.score for r in population.records])
    score_auc = auc(population.bad, -scores.astype(float))
    assert 0.7 < score_auc < auc(population.bad, population.latent) + 0.02
    assert 0.03 < population.bad.mean() < 0.12
