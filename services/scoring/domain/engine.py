"""Evaluation: one enterprise from its records, or many at once from their indicator tables, with identical results.

Score = sum over indicators of points x weight x 10 / (sum of the weights not excluded), rounded to 0-1000.
Each indicator's term is its contribution (the explanation). Coverage is the weight share of indicators that had
data. Discipline: when a trigger signal is above zero the enterprise gets the trigger's flag, its grade is capped and
its score held under the next better grade's cut-off, so the score and the grade never disagree.

The batch path does the same floating-point operations in the same order as the single path (a column at a time,
weights accumulated left to right), so the two give bit-identical scores, not merely close ones.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import numpy as np
import numpy.typing as npt

from services.scoring.domain.model import GRADES, MAX_SCORE, Model, Scorecard
from services.scoring.domain.records import Record, RecordRef, by_item, ref

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
# Rows are evaluated in slices this long so a column slice stays in the CPU cache across the per-column steps.
CHUNK_ROWS = 16384


@dataclass(frozen=True)
class Contribution:
    """One indicator's part of a score: its raw value, bin, points (0-100), effective weight and score points."""

    indicator: str
    dimension: str
    value: float | None
    bin: str
    points: float
    weight: float
    contribution: float
    missing: bool
    excluded: bool
    evidence: tuple[RecordRef, ...] = ()
    disputed: bool = False


@dataclass(frozen=True)
class Evaluation:
    """A score from 0 to 1000, its grade, the explanation, data coverage, discipline flags and the model version."""

    model_version: str
    score: int
    grade: str
    raw_score: float
    contributions: tuple[Contribution, ...]
    coverage: float
    flags: tuple[str, ...]
    capped: bool

    @property
    def grade_index(self) -> int:
        return GRADES.index(self.grade)

    @property
    def discipline_adjustment(self) -> int:
        """Points the discipline cap took off (0 when not capped); contributions add up to the score before it."""
        return self.score - _round(self.raw_score)

    def without_evidence(self) -> Evaluation:
        """The same evaluation with no record references (what a batch re-evaluation from tables knows)."""
        plain = tuple(
            Contribution(
                c.indicator, c.dimension, c.value, c.bin, c.points, c.weight, c.contribution, c.missing, c.excluded
            )
            for c in self.contributions
        )
        return Evaluation(
            self.model_version, self.score, self.grade, self.raw_score, plain, self.coverage, self.flags, self.capped
        )


@dataclass(frozen=True)
class Extracted:
    """A raw value as extracted (None = missing) and the record versions it rests on."""

    value: float | None
    evidence: tuple[RecordRef, ...]

    @property
    def disputed(self) -> bool:
        return any(r.in_dispute for r in self.evidence)


@dataclass(frozen=True)
class Assessment:
    """Everything one evaluation produced: the values of every indicator and signal, and the evaluation."""

    values: Mapping[str, Extracted]
    evaluation: Evaluation

    def value(self, code: str) -> float | None:
        got = self.values.get(code)
        return None if got is None else got.value


def _round(x: float) -> int:
    return round(min(max(x, 0.0), MAX_SCORE))


def extract(model: Model, records: Iterable[Record], as_of: datetime) -> dict[str, Extracted]:
    """Every indicator's and signal's raw value as of ``as_of`` (records whose event is not later, latest versions)."""
    grouped = by_item(records, as_of)
    out = {}
    for code, extraction in model.extractions.items():
        value, used = extraction.run(grouped, as_of)
        out[code] = Extracted(value, tuple(map(ref, used)))
    return out


def row_of(card: Scorecard, values: Mapping[str, Extracted | float | None]) -> list[float]:
    """A table row in ``card.columns`` order; NaN marks a missing value."""
    row = []
    for code in card.columns:
        got = values.get(code)
        v = got.value if isinstance(got, Extracted) else got
        row.append(math.nan if v is None else float(v))
    return row


def assess(model: Model, records: Iterable[Record], as_of: datetime) -> Assessment:
    """Evaluate one enterprise on request: extract from its records, score, and attach each indicator's evidence."""
    values = extract(model, records, as_of)
    evaluation = evaluate(model.card, row_of(model.card, values))
    contributions = tuple(
        Contribution(
            c.indicator,
            c.dimension,
            c.value,
            c.bin,
            c.points,
            c.weight,
            c.contribution,
            c.missing,
            c.excluded,
            values[c.indicator].evidence,
            values[c.indicator].disputed,
        )
        for c in evaluation.contributions
    )
    return Assessment(
        values,
        Evaluation(
            evaluation.model_version,
            evaluation.score,
            evaluation.grade,
            evaluation.raw_score,
            contributions,
            evaluation.coverage,
            evaluation.flags,
            evaluation.capped,
        ),
    )


def same_figures(model: Model, stored: Evaluation, fresh: Evaluation) -> bool:
    """Whether a fresh evaluation says what a stored one says: model version, score, grade, flags, coverage and every
    indicator's value, bin, points, weight and evidence.

    A ``years_since`` value grows every day while its bin, points and evidence stay: that alone is no change (else
    every enterprise would get a new evaluation a day for its age); crossing a bin edge, or points that follow the
    value (a linear rule), is one."""
    if fresh == stored:
        return True
    head = ("model_version", "score", "grade", "raw_score", "coverage", "flags", "capped")
    if any(getattr(stored, f) != getattr(fresh, f) for f in head):
        return False
    if len(stored.contributions) != len(fresh.contributions):
        return False
    for old, new in zip(stored.contributions, fresh.contributions, strict=True):
        if old == new:
            continue
        extraction = model.extractions.get(new.indicator)
        if extraction is None or extraction.kind != "years_since" or replace(old, value=new.value) != new:
            return False
    return True


def evaluate(card: Scorecard, row: Sequence[float]) -> Evaluation:
    """Evaluate one row of raw values (``card.columns`` order, NaN = missing)."""
    if len(row) != len(card.columns):
        raise ValueError(f"row has {len(row)} values, the scorecard needs {len(card.columns)}")
    scoring_weight = data_weight = total_weight = 0.0
    parts: list[tuple[float, str, float, bool, bool]] = []  # value, bin, points, missing, excluded
    for k, ind in enumerate(card.indicators):
        x = row[k]
        total_weight += ind.weight
        if math.isnan(x):
            if ind.missing_points is None:
                parts.append((x, "missing", 0.0, True, True))
                continue
            scoring_weight += ind.weight
            parts.append((x, "missing", ind.missing_points, True, False))
            continue
        scoring_weight += ind.weight
        data_weight += ind.weight
        parts.append((x, ind.bin_label(x), ind.points(x), False, False))
    contributions = []
    raw = 0.0
    for ind, (x, label, p, missing, excluded) in zip(card.indicators, parts, strict=True):
        c = p * (ind.weight * 10.0) / scoring_weight if scoring_weight > 0.0 else 0.0
        raw += c
        share = 0.0 if excluded or scoring_weight == 0.0 else ind.weight / scoring_weight
        contributions.append(
            Contribution(ind.code, ind.dimension, None if missing else x, label, p, share, c, missing, excluded)
        )
    score = _round(raw)
    grade = sum(1 for m in card.grade_mins if m > score)
    flags = tuple(t.flag for t, col in zip(card.triggers, card.trigger_columns, strict=True) if row[col] > 0.0)
    capped = False
    cap_index, cap_score = card.cap_index, card.cap_score
    if flags and cap_index is not None and cap_score is not None:
        capped = score > cap_score or grade < cap_index
        score = min(score, int(cap_score))
        grade = max(grade, cap_index)
    return Evaluation(
        card.version,
        score,
        GRADES[grade],
        raw,
        tuple(contributions),
        data_weight / total_weight,
        tuple(dict.fromkeys(flags)),
        capped,
    )


def evaluate_values(card: Scorecard, values: Mapping[str, Extracted | float | None]) -> Evaluation:
    return evaluate(card, row_of(card, values))


@dataclass(frozen=True)
class BatchResult:
    """Column-wise results for many enterprises; ``evaluation(i)`` gives row i as the single path would."""

    card: Scorecard
    table: FloatArray
    scores: IntArray
    grades: IntArray
    raw: FloatArray
    points: FloatArray
    contributions: FloatArray
    scoring_weight: FloatArray
    coverage: FloatArray
    flag_bits: IntArray
    capped: npt.NDArray[np.bool_]

    def evaluation(self, i: int) -> Evaluation:
        card = self.card
        row = self.table[i]
        w = float(self.scoring_weight[i])
        contributions = []
        for k, ind in enumerate(card.indicators):
            x = float(row[k])
            missing = math.isnan(x)
            excluded = missing and ind.missing_points is None
            share = 0.0 if excluded or w == 0.0 else ind.weight / w
            contributions.append(
                Contribution(
                    ind.code,
                    ind.dimension,
                    None if missing else x,
                    "missing" if missing else ind.bin_label(x),
                    float(self.points[i, k]),
                    share,
                    float(self.contributions[i, k]),
                    missing,
                    excluded,
                )
            )
        bits = int(self.flag_bits[i])
        flags = tuple(dict.fromkeys(t.flag for j, t in enumerate(card.triggers) if bits >> j & 1))
        return Evaluation(
            card.version,
            int(self.scores[i]),
            GRADES[int(self.grades[i])],
            float(self.raw[i]),
            tuple(contributions),
            float(self.coverage[i]),
            flags,
            bool(self.capped[i]),
        )


def evaluate_batch(card: Scorecard, table: npt.ArrayLike) -> BatchResult:
    """Evaluate many enterprises from their raw-value table (a row each, ``card.columns`` order, NaN = missing)."""
    values = np.ascontiguousarray(table, dtype=np.float64)
    if values.ndim != 2 or values.shape[1] != len(card.columns):
        raise ValueError(f"table must be (n, {len(card.columns)}); got {values.shape}")
    n, k_count = values.shape[0], len(card.indicators)
    out = BatchResult(
        card=card,
        table=values,
        scores=np.empty(n, np.int64),
        grades=np.empty(n, np.int64),
        raw=np.empty(n),
        # column-major, so each indicator's column is contiguous while it is computed
        points=np.empty((n, k_count), order="F"),
        contributions=np.empty((n, k_count), order="F"),
        scoring_weight=np.empty(n),
        coverage=np.empty(n),
        flag_bits=np.empty(n, np.int64),
        capped=np.empty(n, np.bool_),
    )
    total_weight = 0.0
    for ind in card.indicators:
        total_weight += ind.weight
    for start in range(0, n, CHUNK_ROWS):
        _evaluate_chunk(card, out, slice(start, min(start + CHUNK_ROWS, n)), total_weight)
    return out


def _evaluate_chunk(card: Scorecard, out: BatchResult, rows: slice, total_weight: float) -> None:
    block = np.asfortranarray(out.table[rows])  # one copy, then every column read is contiguous
    m = block.shape[0]
    scoring_weight = np.zeros(m)
    data_weight = np.zeros(m)
    points = out.points[rows]
    for k, ind in enumerate(card.indicators):
        x = block[:, k]
        missing = np.isnan(x)
        present = ~missing
        if ind.bins is not None:
            p = np.asarray(ind.bins.points)[np.searchsorted(ind.bins.edges, x, side="right")]
        else:
            assert ind.linear is not None
            t = (x - ind.linear.worst) / (ind.linear.best - ind.linear.worst)
            p = np.clip(t, 0.0, 1.0) * 100.0
        # adding only where present leaves the other sums untouched, as the single path's skipped additions do
        if ind.missing_points is None:
            np.copyto(p, 0.0, where=missing)
            np.add(scoring_weight, ind.weight, out=scoring_weight, where=present)
        else:
            np.copyto(p, ind.missing_points, where=missing)
            scoring_weight += ind.weight
        np.add(data_weight, ind.weight, out=data_weight, where=present)
        points[:, k] = p
    contributions = out.contributions[rows]
    safe = np.where(scoring_weight > 0.0, scoring_weight, 1.0)
    raw = np.zeros(m)
    for k, ind in enumerate(card.indicators):
        c = points[:, k] * (ind.weight * 10.0) / safe
        np.copyto(c, 0.0, where=scoring_weight == 0.0)
        contributions[:, k] = c
        raw += c
    score = np.rint(np.clip(raw, 0.0, MAX_SCORE)).astype(np.int64)
    grade = (np.asarray(card.grade_mins)[None, :] > score[:, None]).sum(axis=1)
    bits = np.zeros(m, np.int64)
    for j, col in enumerate(card.trigger_columns):
        bits |= (block[:, col] > 0.0).astype(np.int64) << j
    capped = np.zeros(m, np.bool_)
    cap_index, cap_score = card.cap_index, card.cap_score
    if cap_index is not None and cap_score is not None and card.triggers:
        flagged = bits != 0
        capped = flagged & ((score > cap_score) | (grade < cap_index))
        score = np.where(flagged, np.minimum(score, int(cap_score)), score)
        grade = np.where(flagged, np.maximum(grade, cap_index), grade)
    out.scores[rows] = score
    out.grades[rows] = grade
    out.raw[rows] = raw
    out.scoring_weight[rows] = scoring_weight
    out.coverage[rows] = data_weight / total_weight
    out.flag_bits[rows] = bits
    out.capped[rows] = capped
