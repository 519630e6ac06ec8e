"""Group ``scoring``: batch and single evaluation speed, and honest quality figures of the basic and fitted models.

- ``scoring.batch_numpy_ratio``: re-evaluating 100,000 enterprises from their indicator tables with the engine
  (scores, grades, per-indicator contributions, coverage, discipline flags and caps), as a ratio of a plain numpy
  evaluation of the same tables (digitize, points lookup, weighted sum, grade, cap) over the engine's time.
  The tables are real extractions of 10,000 synthetic enterprises, resampled to 100,000 rows.
- ``scoring.single_eval_us``: one enterprise on request, compute only: extraction from its records plus evaluation.
- ``scoring.basic_auc`` / ``scoring.basic_ks``: the basic model's ranking of synthetic defaults (see
  services/scoring/domain/synthetic.py for how defaults are generated); ``scoring.latent_auc`` is the ceiling.
- ``scoring.fitted_auc_vs_reference``: see tools/scoring_quality.py.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import numpy.typing as npt

from bench.figures import Figure
from services.scoring.data import model_text
from services.scoring.domain.engine import assess, evaluate_batch, extract, row_of
from services.scoring.domain.metrics import auc, ks
from services.scoring.domain.model import MAX_SCORE, Scorecard, load_model
from services.scoring.domain.synthetic import generate
from tools.scoring_quality import fitted_quality

POPULATION = 10_000
BATCH_ROWS = 100_000
ROUNDS = 5


def plain_numpy(card: Scorecard, table: npt.NDArray[np.float64]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The straightforward numpy evaluation of the same table: the baseline (scores, grades, coverage)."""
    k = len(card.indicators)
    values = table[:, :k]
    missing = np.isnan(values)
    points = np.empty_like(values)
    for j, ind in enumerate(card.indicators):
        if ind.bins is not None:
            p = np.asarray(ind.bins.points)[np.digitize(values[:, j], ind.bins.edges)]
        else:
            assert ind.linear is not None
            p = np.clip((values[:, j] - ind.linear.worst) / (ind.linear.best - ind.linear.worst), 0.0, 1.0) * 100.0
        fill = 0.0 if ind.missing_points is None else ind.missing_points
        points[:, j] = np.where(missing[:, j], fill, p)
    weights = np.array([ind.weight for ind in card.indicators])
    excluded = missing & np.array([ind.missing_points is None for ind in card.indicators])
    scoring_weight = np.where(excluded, 0.0, weights).sum(axis=1)
    raw = (points @ (weights * 10.0)) / scoring_weight
    score = np.rint(np.clip(raw, 0.0, MAX_SCORE))
    grade = (np.asarray(card.grade_mins)[None, :] > score[:, None]).sum(axis=1)
    flagged = (table[:, list(card.trigger_columns)] > 0.0).any(axis=1)
    if card.cap_score is not None and card.cap_index is not None:
        score = np.where(flagged, np.minimum(score, card.cap_score), score)
        grade = np.where(flagged, np.maximum(grade, card.cap_index), grade)
    coverage = np.where(missing, 0.0, weights).sum(axis=1) / weights.sum()
    return score, grade, coverage


def _timed(fn: object, *args: object) -> float:
    started = time.perf_counter()
    fn(*args)  # type: ignore[operator]
    return time.perf_counter() - started


def run() -> list[Figure]:
    model = load_model(model_text())
    population = generate(POPULATION)
    records = population.records
    table = np.array([row_of(model.card, extract(model, recs, population.as_of)) for recs in records])

    # quality: the batch engine's scores for the population's own rows
    risk = -evaluate_batch(model.card, table).scores.astype(np.float64)
    basic_auc, basic_ks = auc(population.bad, risk), ks(population.bad, risk)
    latent_auc = auc(population.bad, population.latent)

    # batch speed: the same tables resampled to 100,000 rows, engine and baseline interleaved
    big = table[np.random.default_rng(1).integers(0, POPULATION, BATCH_ROWS)]
    engine = evaluate_batch(model.card, big)
    score, grade, _ = plain_numpy(model.card, big)
    agree = float(np.mean((engine.scores == score) & (engine.grades == grade)))
    engine_s, plain_s = [], []
    for _ in range(ROUNDS):
        engine_s.append(_timed(evaluate_batch, model.card, big))
        plain_s.append(_timed(plain_numpy, model.card, big))
    e, p = statistics.median(engine_s), statistics.median(plain_s)

    # single evaluation on request: extraction plus evaluation, per enterprise
    sample = records[:2000]
    per_call = []
    for _ in range(3):
        started = time.perf_counter()
        for recs in sample:
            assess(model, recs, population.as_of)
        per_call.append((time.perf_counter() - started) / len(sample) * 1e6)
    records_each = statistics.mean(len(r) for r in sample)

    fitted = fitted_quality()
    return [
        Figure.at_least("scoring.batch_numpy_ratio", p / e, "ratio", 0.5, baseline=p * 1e3),
        Figure.reported("scoring.batch_engine_ms", e * 1e3, "ms"),
        Figure.reported("scoring.batch_agreement", agree, "share"),
        Figure.at_most("scoring.single_eval_us", statistics.median(per_call), "us", 1000),
        Figure.reported("scoring.single_eval_records", records_each, "records"),
        Figure.reported("scoring.basic_auc", basic_auc, "AUC"),
        Figure.reported("scoring.basic_ks", basic_ks, "KS"),
        Figure.reported("scoring.latent_auc", latent_auc, "AUC"),
        Figure.reported("scoring.synthetic_bad_rate", float(population.bad.mean()), "share"),
        Figure.at_least("scoring.fitted_auc_vs_reference", fitted.ratio, "ratio", 1.0, baseline=fitted.reference),
        Figure.reported("scoring.fitted_auc", fitted.ours, "AUC"),
        Figure.reported("scoring.fitted_ref_tutorial_auc", fitted.reference_tutorial, "AUC"),
    ]
