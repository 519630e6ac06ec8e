"""Ranking quality of a score: ROC AUC and the Kolmogorov-Smirnov statistic, in numpy (ties handled exactly)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def _check(bad: npt.ArrayLike, risk: npt.ArrayLike) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.float64]]:
    y = np.asarray(bad).astype(bool)
    r = np.asarray(risk, dtype=np.float64)
    if y.shape != r.shape or y.ndim != 1:
        raise ValueError("bad and risk must be 1-d arrays of one length")
    if y.all() or not y.any():
        raise ValueError("AUC and KS need both bad and good cases")
    return y, r


def auc(bad: npt.ArrayLike, risk: npt.ArrayLike) -> float:
    """Probability that a random bad case has higher ``risk`` than a random good one (ties count half)."""
    y, r = _check(bad, risk)
    _, inverse, counts = np.unique(r, return_inverse=True, return_counts=True)
    # average rank of each distinct value (1-based), so tied cases share their rank
    ends = np.cumsum(counts)
    mean_rank = ends - (counts - 1) / 2.0
    ranks = mean_rank[inverse]
    n_bad = int(y.sum())
    n_good = y.size - n_bad
    return float((ranks[y].sum() - n_bad * (n_bad + 1) / 2.0) / (n_bad * n_good))


def ks(bad: npt.ArrayLike, risk: npt.ArrayLike) -> float:
    """Largest gap between the bad and good cumulative distributions of ``risk`` (over distinct thresholds)."""
    y, r = _check(bad, risk)
    values, inverse = np.unique(r, return_inverse=True)
    bads = np.bincount(inverse, weights=y.astype(np.float64), minlength=values.size)
    goods = np.bincount(inverse, weights=(~y).astype(np.float64), minlength=values.size)
    gap = np.abs(np.cumsum(bads) / bads.sum() - np.cumsum(goods) / goods.sum())
    return float(gap.max())
