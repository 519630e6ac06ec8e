"""AUC and KS against brute-force definitions, ties included."""

from __future__ import annotations

import numpy as np
import pytest

from services.scoring.domain.metrics import auc, ks


def brute_auc(bad: np.ndarray, risk: np.ndarray) -> float:
    pos, neg = risk[bad], risk[~bad]
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(wins / (pos.size * neg.size))


def brute_ks(bad: np.ndarray, risk: np.ndarray) -> float:
    return max(abs((risk[bad] <= t).mean() - (risk[~bad] <= t).mean()) for t in np.unique(risk))


def test_auc_and_ks_match_their_definitions_with_ties() -> None:
    rng = np.random.default_rng(3)
    bad = rng.random(300) < 0.2
    risk = np.round(rng.normal(bad * 0.8, 1.0), 1)  # rounding makes ties
    assert auc(bad, risk) == pytest.approx(brute_auc(bad, risk))
    assert ks(bad, risk) == pytest.approx(brute_ks(bad, risk))


def test_perfect_and_reversed_rankings() -> None:
    bad = np.array([False, False, True, True])
    assert auc(bad, [1, 2, 3, 4]) == 1.0
    assert auc(bad, [4, 3, 2, 1]) == 0.0
    assert ks(bad, [1, 2, 3, 4]) == 1.0


def test_one_class_only_is_refused() -> None:
    with pytest.raises(ValueError, match="both"):
        auc([True, True], [1, 2])
