"""Scenario models: an institution's indicator subset, weights and cut-offs over a published base model.

A scenario reuses the base model's extractions, so it reads nothing the base does not. It may re-bin an indicator,
score one of the base's signals, and set its own grade cut-offs. It cannot drop the base's discipline effect: a
disciplined enterprise carries the flag and the grade cap in every scenario too. A scenario document is validated
like a model and rejected with every reason (unknown indicators, weights that do not add up, bins with gaps…).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from services.scoring.domain.model import (
    DIRECTIONS,
    Model,
    Scorecard,
    ScoredIndicator,
    check_weights,
    missing_is_worst,
    parse_grades,
    parse_scoring,
    parse_weight,
)
from services.scoring.domain.problems import ModelRejected, Problem, Problems


def compile_scenario(doc: object, base: Model) -> Model:
    """Validate a scenario document against ``base``; the result evaluates like any model."""
    problems = Problems()
    if not isinstance(doc, Mapping):
        raise ModelRejected([Problem("BAD_DOCUMENT", "document", "a scenario is a mapping")])
    version = doc.get("version")
    if not isinstance(version, str) or not version:
        problems.add("BAD_DOCUMENT", "version", "version must be a non-empty string")
        version = ""
    if doc.get("base") != base.version:
        # what was named is not told back: any text but the base's version is the sender's (it may hold personal data)
        problems.add("SCENARIO_BASE", "base", f"the scenario must name base {base.version}")
    for locked in ("discipline", "signals", "extract"):
        if locked in doc:
            problems.add("DISCIPLINE_LOCKED", locked, f"a scenario inherits {locked} from its base model")
    grade_mins = parse_grades(doc["grades"], "grades", problems) if "grades" in doc else base.card.grade_mins
    indicators = _parse(doc.get("indicators"), base, problems)
    if problems:
        raise ModelRejected(problems.items)
    card = Scorecard(str(version), tuple(indicators), grade_mins, base.card.triggers, base.card.cap_grade)
    return replace(base, version=str(version), title=str(doc.get("title", version)), card=card, document=dict(doc))


def check_scenario(doc: object, base: Model) -> list[Problem]:
    """Every reason the scenario would be rejected (empty when it is acceptable)."""
    try:
        compile_scenario(doc, base)
    except ModelRejected as rejected:
        return list(rejected.problems)
    return []


def _parse(doc: object, base: Model, problems: Problems) -> list[ScoredIndicator]:
    if not isinstance(doc, Sequence) or isinstance(doc, str) or not doc:
        problems.add("BAD_DOCUMENT", "indicators", "indicators is a non-empty list of {code, weight}")
        return []
    scored = {i.code: i for i in base.card.indicators}
    seen: set[str] = set()
    out, weights = [], []
    for i, item in enumerate(doc):
        code = item.get("code") if isinstance(item, Mapping) else None
        # Only a code the base knows is named back; any other text is the sender's (it may hold personal data).
        known = isinstance(code, str) and code in base.extractions
        where = f"indicators.{code}" if known else f"indicators[{i}]"
        if not isinstance(item, Mapping) or not isinstance(code, str):
            problems.add("BAD_INDICATOR", where, "a scenario indicator is {code, weight} and optional scoring")
            continue
        if code in seen:
            problems.add("DUPLICATE_CODE", where, f"{code} appears twice" if known else "the code appears twice")
        seen.add(code)
        weight = parse_weight(item.get("weight"), f"{where}.weight", problems)
        weights.append(weight)
        if not known:
            problems.add("UNKNOWN_INDICATOR", where, f"{base.version} has no indicator or signal of that code")
            continue
        own = scored.get(code)
        rescored = any(k in item for k in ("bins", "linear", "missing", "direction"))
        if own is not None and not rescored:
            out.append(replace(own, weight=weight))
            continue
        direction = item.get("direction", own.direction if own else None)
        if direction not in DIRECTIONS:
            problems.add("BAD_DIRECTION", f"{where}.direction", f"direction is one of {', '.join(DIRECTIONS)}")
            continue
        # a partial override keeps the base's other scoring parts
        merged = dict(_scoring_doc(own)) if own else {}
        if "bins" in item or "linear" in item:
            merged.pop("bins", None)
            merged.pop("linear", None)
        merged.update({k: item[k] for k in ("bins", "linear", "missing") if k in item})
        bins, linear, missing = parse_scoring(merged, where, str(direction), problems)
        dimension = own.dimension if own else str(item.get("dimension", "signals"))
        name = own.name if own else base.signal_names.get(code, code)
        out.append(
            ScoredIndicator(
                code, name, dimension, weight, str(direction), bins, linear, missing, missing_is_worst(merged)
            )
        )
    check_weights(weights, "indicators", problems)
    return out


def _scoring_doc(ind: ScoredIndicator) -> dict[str, object]:
    """An indicator's scoring written back as a document part, so a scenario can override only some of it."""
    doc: dict[str, object] = {}
    if ind.bins is not None:
        bounds = [None, *ind.bins.edges, None]
        doc["bins"] = [
            {"lower": bounds[j], "upper": bounds[j + 1], "points": p, "label": ind.bins.labels[j]}
            for j, p in enumerate(ind.bins.points)
        ]
    elif ind.linear is not None:
        doc["linear"] = {"worst": ind.linear.worst, "best": ind.linear.best}
    if ind.missing_worst:
        doc["missing"] = {"rule": "worst"}  # the worst of the bins in force, re-binned or not
    elif ind.missing_points is None:
        doc["missing"] = {"rule": "exclude"}
    else:
        doc["missing"] = {"rule": "points", "points": ind.missing_points}
    return doc
