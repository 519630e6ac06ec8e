"""Fit a scenario scorecard from an institution's outcome data: monotone WoE binning and logistic regression, in numpy.

Binning, per indicator, on the training rows only:
1. pre-bin at up to ``prebins`` quantiles (distinct values only);
2. merge bins holding fewer than ``min_bin_share`` of the rows, or fewer than ``min_bin_count`` rows, into the
   neighbour with the closer bad rate (a row is one enterprise: the caller refuses one named twice);
3. make the bad rate monotone in the value (the trend's sign is the rank correlation's), merging the adjacent
   violating pair with the smallest chi-square first;
4. merge the most similar adjacent pair (smallest chi-square) until at most ``max_bins`` remain;
5. weight of evidence per bin: ln(share of bads / share of goods), with half a case added to each count. Missing
   values get their own WoE when at least ``min_bin_share`` of the rows are missing, else 0 (neutral).
Indicators with information value below ``min_iv`` are dropped. A logistic regression with an L2 penalty on the
WoE columns is fitted by Newton's method; an indicator whose coefficient comes out negative (it would reward risk,
a sign of collinearity) is dropped and the rest refitted.

The fit becomes points: each indicator's bin points are 100 x (its bin's term - its worst term) / (its span), and its
weight is its span over all spans, so the score (0-1000) is an increasing affine map of the fitted log-odds of being
good: it ranks exactly as the regression does, and it is validated and evaluated like any scenario.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from services.kit.errors import InvalidArgument
from services.scoring.domain.model import GRADES, Bins, Scorecard, ScoredIndicator

FloatArray = npt.NDArray[np.float64]
# The ErrorReason (scoring range) when outcome data cannot support a fit.
FIT_DATA_INSUFFICIENT = "ERROR_REASON_FIT_DATA_INSUFFICIENT"
MIN_CLASS_COUNT = 20
# Rows (distinct enterprises) every fitted bin holds at least. A bin's edges are quantiles of the values in it, the
# points of each bin part of the stored scenario: a bin of one or two enterprises would tell the institution that
# fitted it (knowing the others it sent) about an enterprise's own value.
MIN_BIN_COUNT = 5


@dataclass(frozen=True)
class FeatureBinning:
    """One indicator's fitted bins: inner edges (bins are [lower, upper)), WoE per bin, WoE of a missing value."""

    code: str
    edges: tuple[float, ...]
    woe: tuple[float, ...]
    missing_woe: float
    iv: float
    counts: tuple[int, ...]
    bad_rates: tuple[float, ...]

    def transform(self, x: FloatArray) -> FloatArray:
        out = np.asarray(self.woe)[np.searchsorted(self.edges, x, side="right")]
        return np.where(np.isnan(x), self.missing_woe, out)


@dataclass(frozen=True)
class FittedScorecard:
    """Selected binnings and the regression on their WoE (log-odds of bad = intercept + sum coef x WoE)."""

    features: tuple[FeatureBinning, ...]
    intercept: float
    coefficients: tuple[float, ...]
    dropped: Mapping[str, str]

    def log_odds_bad(self, columns: Mapping[str, FloatArray]) -> FloatArray:
        total = np.full(len(next(iter(columns.values()))), self.intercept)
        for f, beta in zip(self.features, self.coefficients, strict=True):
            total += beta * f.transform(np.asarray(columns[f.code], dtype=np.float64))
        return total

    def _terms(self) -> list[tuple[FeatureBinning, list[float], float, float, float]]:
        """Per feature: goodness term of each bin (-coef x WoE), of a missing value, the worst term and the span."""
        out = []
        for f, beta in zip(self.features, self.coefficients, strict=True):
            terms = [-beta * w for w in f.woe]
            missing = -beta * f.missing_woe
            low, high = min(*terms, missing), max(*terms, missing)
            out.append((f, terms, missing, low, high - low))
        return out

    def scenario_indicators(self) -> list[dict[str, object]]:
        """The fit as scenario indicator documents (bins with 0-100 points, weights adding up to 1)."""
        parts = [p for p in self._terms() if p[4] > 0.0]
        spans = math.fsum(p[4] for p in parts)
        docs: list[dict[str, object]] = []
        for f, terms, missing, low, span in parts:
            points = [100.0 * (t - low) / span for t in terms]
            bounds: list[float | None] = [None, *f.edges, None]
            increasing = points[-1] >= points[0]
            docs.append(
                {
                    "code": f.code,
                    "weight": span / spans,
                    "direction": "higher_is_better" if increasing else "lower_is_better",
                    "bins": [{"lower": bounds[j], "upper": bounds[j + 1], "points": p} for j, p in enumerate(points)],
                    "missing": {"rule": "points", "points": 100.0 * (missing - low) / span},
                }
            )
        return docs

    def scenario(self, version: str, base: str, grades: Mapping[str, float] | None = None) -> dict[str, object]:
        """A scenario document over base model ``base``; compile it with ``compile_scenario`` to validate it."""
        doc: dict[str, object] = {"version": version, "base": base, "indicators": self.scenario_indicators()}
        if grades is not None:
            doc["grades"] = dict(grades)
        return doc

    def scorecard(self, version: str, grade_mins: Sequence[float]) -> Scorecard:
        """The fit as a bare scorecard (for data with no base model, e.g. a public benchmark set)."""
        indicators = []
        for d in self.scenario_indicators():
            bins = d["bins"]
            assert isinstance(bins, list)
            edges = tuple(float(b["upper"]) for b in bins[:-1])
            pts = tuple(float(b["points"]) for b in bins)
            missing = d["missing"]
            assert isinstance(missing, dict)
            indicators.append(
                ScoredIndicator(
                    str(d["code"]),
                    str(d["code"]),
                    "fitted",
                    float(d["weight"]),  # type: ignore[arg-type]
                    str(d["direction"]),
                    Bins(edges, pts, tuple("" for _ in pts)),
                    None,
                    float(missing["points"]),
                )
            )
        if len(grade_mins) != len(GRADES):
            raise ValueError("one minimum score per grade")
        return Scorecard(version, tuple(indicators), tuple(float(m) for m in grade_mins))


def _chi2(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Chi-square of a 2x2 table (bads, goods) x (bin a, bin b): how different two adjacent bins are."""
    total = a[0] + a[1] + b[0] + b[1]
    bads, goods = a[0] + b[0], a[1] + b[1]
    stat = 0.0
    for bad, good in (a, b):
        n = bad + good
        for observed, column in ((bad, bads), (good, goods)):
            expected = n * column / total
            if expected > 0:
                stat += (observed - expected) ** 2 / expected
    return stat


def _rate(c: tuple[float, float]) -> float:
    return c[0] / (c[0] + c[1]) if c[0] + c[1] > 0 else 0.0


def _merge(edges: list[float], counts: list[tuple[float, float]], j: int) -> None:
    """Merge bin j with bin j + 1."""
    counts[j] = (counts[j][0] + counts[j + 1][0], counts[j][1] + counts[j + 1][1])
    del counts[j + 1]
    del edges[j]


def _prebin(xs: FloatArray, ys: npt.NDArray[np.bool_], prebins: int) -> tuple[list[float], list[tuple[float, float]]]:
    """Quantile edges (distinct, above the minimum) and (bads, goods) per bin, empty bins merged away."""
    edges: list[float] = []
    if xs.size:
        quantiles = np.quantile(xs, np.linspace(0.0, 1.0, prebins + 1)[1:-1])
        edges = sorted({float(q) for q in quantiles} - {float(xs.min())})
    idx = np.searchsorted(edges, xs, side="right")
    bads = np.bincount(idx, weights=ys.astype(np.float64), minlength=len(edges) + 1)
    goods = np.bincount(idx, weights=(~ys).astype(np.float64), minlength=len(edges) + 1)
    counts = [(float(b), float(g)) for b, g in zip(bads, goods, strict=True)]
    j = 0
    while j < len(counts) and len(counts) > 1:
        if counts[j][0] + counts[j][1] == 0:
            _merge(edges, counts, j if j < len(counts) - 1 else j - 1)
        else:
            j += 1
    return edges, counts


def _merge_small(edges: list[float], counts: list[tuple[float, float]], floor: float) -> None:
    """Merge the smallest bin under ``floor`` rows into the neighbour with the closer bad rate, until none is left."""
    while len(counts) > 1:
        small = [j for j, c in enumerate(counts) if c[0] + c[1] < floor]
        if not small:
            return
        j = min(small, key=lambda k: counts[k][0] + counts[k][1])
        if j == 0:
            _merge(edges, counts, 0)
        elif j == len(counts) - 1:
            _merge(edges, counts, j - 1)
        else:
            left = abs(_rate(counts[j - 1]) - _rate(counts[j]))
            right = abs(_rate(counts[j + 1]) - _rate(counts[j]))
            _merge(edges, counts, j - 1 if left <= right else j)


def _make_monotone(edges: list[float], counts: list[tuple[float, float]], trend: float) -> None:
    while True:
        violating = [j for j in range(len(counts) - 1) if (_rate(counts[j + 1]) - _rate(counts[j])) * trend < 0]
        if not violating:
            return
        _merge(edges, counts, min(violating, key=lambda k: _chi2(counts[k], counts[k + 1])))


def _trend(xs: FloatArray, ys: npt.NDArray[np.bool_]) -> float:
    """+1 when the bad rate rises with the value (rank correlation), else -1."""
    if xs.size < 2 or np.std(xs) == 0 or np.std(ys) == 0:
        return 1.0
    ranks = np.argsort(np.argsort(xs)).astype(np.float64)
    return 1.0 if np.corrcoef(ranks, ys.astype(np.float64))[0, 1] >= 0 else -1.0


def bin_feature(
    code: str,
    x: FloatArray,
    bad: npt.NDArray[np.bool_],
    *,
    prebins: int = 20,
    min_bin_share: float = 0.05,
    max_bins: int = 5,
    min_bin_count: int = MIN_BIN_COUNT,
) -> FeatureBinning:
    """Monotone WoE binning of one column (NaN = missing); see the module docstring for the steps."""
    finite = ~np.isnan(x)
    xs, ys = x[finite], bad[finite]
    total_bad, total_good = float(bad.sum()), float((~bad).sum())
    edges, counts = _prebin(xs, ys, prebins)
    floor = max(min_bin_share * bad.size, float(min_bin_count))
    _merge_small(edges, counts, floor)
    _make_monotone(edges, counts, _trend(xs, ys))
    while len(counts) > max_bins:
        _merge(edges, counts, min(range(len(counts) - 1), key=lambda k: _chi2(counts[k], counts[k + 1])))

    def woe(b: float, g: float) -> float:
        return math.log(((b + 0.5) / (total_bad + 0.5)) / ((g + 0.5) / (total_good + 0.5)))

    woes = [woe(b, g) for b, g in counts]
    iv = math.fsum(((b / total_bad) - (g / total_good)) * w for (b, g), w in zip(counts, woes, strict=True))
    missing_bad, missing_n = float(bad[~finite].sum()), float((~finite).sum())
    missing_woe = 0.0
    if missing_n >= floor and missing_n > 0:
        missing_woe = woe(missing_bad, missing_n - missing_bad)
        iv += ((missing_bad / total_bad) - ((missing_n - missing_bad) / total_good)) * missing_woe
    return FeatureBinning(
        code,
        tuple(edges),
        tuple(woes),
        missing_woe,
        iv,
        tuple(int(b + g) for b, g in counts),
        tuple(_rate(c) for c in counts),
    )


def logistic(x: FloatArray, y: FloatArray, l2: float = 1.0, iterations: int = 50) -> tuple[float, FloatArray]:
    """L2-penalised logistic regression (intercept not penalised) by Newton's method; returns (intercept, coefs)."""
    n, p = x.shape
    design = np.hstack([np.ones((n, 1)), x])
    beta = np.zeros(p + 1)
    penalty = np.full(p + 1, l2)
    penalty[0] = 0.0
    for _ in range(iterations):
        eta = design @ beta
        prob = 1.0 / (1.0 + np.exp(-eta))
        gradient = design.T @ (y - prob) - penalty * beta
        weights = prob * (1.0 - prob)
        hessian = design.T @ (design * weights[:, None]) + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        beta += step
        if float(np.max(np.abs(step))) < 1e-10:
            break
    return float(beta[0]), beta[1:]


def fit(
    columns: Mapping[str, npt.ArrayLike],
    bad: npt.ArrayLike,
    *,
    prebins: int = 20,
    min_bin_share: float = 0.05,
    max_bins: int = 5,
    min_bin_count: int = MIN_BIN_COUNT,
    min_iv: float = 0.02,
    l2: float = 1.0,
) -> FittedScorecard:
    """Fit a scorecard: ``columns`` maps indicator codes to raw values (NaN = missing), ``bad`` marks the defaults."""
    y = np.asarray(bad).astype(bool)
    n_bad = int(y.sum())
    if n_bad < MIN_CLASS_COUNT or y.size - n_bad < MIN_CLASS_COUNT:
        raise InvalidArgument(
            FIT_DATA_INSUFFICIENT,
            f"fitting needs at least {MIN_CLASS_COUNT} bad and {MIN_CLASS_COUNT} good outcomes",
            {"bad": str(n_bad), "good": str(y.size - n_bad)},
        )
    dropped: dict[str, str] = {}
    binnings = []
    for code, values in columns.items():
        x = np.asarray(values, dtype=np.float64)
        if x.shape != y.shape:
            raise InvalidArgument(
                "ERROR_REASON_INVALID_FIELD", "every column needs one value per outcome", {"field": code}
            )
        b = bin_feature(
            code, x, y, prebins=prebins, min_bin_share=min_bin_share, max_bins=max_bins, min_bin_count=min_bin_count
        )
        if b.iv < min_iv:
            dropped[code] = f"information value {b.iv:.4f} below {min_iv}"
        else:
            binnings.append(b)
    woe = {b.code: b.transform(np.asarray(columns[b.code], dtype=np.float64)) for b in binnings}
    target = y.astype(np.float64)
    while binnings:
        matrix = np.column_stack([woe[b.code] for b in binnings])
        intercept, coefs = logistic(matrix, target, l2)
        wrong = [j for j, c in enumerate(coefs) if c <= 0.0]
        if not wrong:
            return FittedScorecard(tuple(binnings), intercept, tuple(float(c) for c in coefs), dropped)
        worst = min(wrong, key=lambda j: coefs[j])
        dropped[binnings[worst].code] = "coefficient against its WoE (collinear with others)"
        del binnings[worst]
    raise InvalidArgument(
        FIT_DATA_INSUFFICIENT, "no indicator separates bad from good outcomes", {"dropped": str(len(dropped))}
    )
