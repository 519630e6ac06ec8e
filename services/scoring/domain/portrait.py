"""Enterprise portraits (企业画像): positive and risk tags, a 0-100 summary per dimension, and the discipline flags."""

from __future__ import annotations

import math
from dataclasses import dataclass

from services.scoring.domain.engine import Assessment, Evaluation
from services.scoring.domain.model import Model, TagRule
from services.scoring.domain.records import RecordRef


@dataclass(frozen=True)
class Tag:
    """One portrait tag with the record versions behind it."""

    code: str
    label: str
    kind: str
    evidence: tuple[RecordRef, ...]


@dataclass(frozen=True)
class Portrait:
    """What an institution sees of an enterprise besides the score: tags, dimension summaries and flags."""

    model_version: str
    score: int
    grade: str
    flags: tuple[str, ...]
    positive: tuple[Tag, ...]
    risks: tuple[Tag, ...]
    dimensions: tuple[tuple[str, float | None], ...]
    coverage: float
    disputed: bool
    objection: str = ""  # an open objection to the enterprise's evaluation contests this score and grade too


def dimension_summary(model: Model, evaluation: Evaluation) -> tuple[tuple[str, float | None], ...]:
    """Weighted mean points (0-100) of each dimension's indicators that counted; None when all were excluded."""
    out = []
    for dimension in model.dimensions:
        parts = [c for c in evaluation.contributions if c.dimension == dimension and not c.excluded]
        weight = math.fsum(c.weight for c in parts)
        mean = math.fsum(c.points * c.weight for c in parts) / weight if weight > 0 else None
        out.append((dimension, None if mean is None else round(mean, 6)))
    return tuple(out)


def _holds(rule: TagRule, assessment: Assessment) -> bool:
    return all(c.holds(assessment.value(c.signal)) for c in rule.conditions)


def portrait(model: Model, assessment: Assessment, evaluation: Evaluation | None = None) -> Portrait:
    """Tags and summaries of one assessed enterprise; ``evaluation`` may be a scenario's, the tags stay the model's."""
    shown = evaluation or assessment.evaluation
    positive: list[Tag] = []
    risks: list[Tag] = []
    for rule in model.tags:
        if not _holds(rule, assessment):
            continue
        evidence = tuple(sorted({r for c in rule.conditions for r in assessment.values[c.signal].evidence}))
        tag = Tag(rule.code, rule.label, rule.kind, evidence)
        (positive if rule.kind == "POSITIVE" else risks).append(tag)
    return Portrait(
        model_version=shown.model_version,
        score=shown.score,
        grade=shown.grade,
        flags=shown.flags,
        positive=tuple(positive),
        risks=tuple(risks),
        dimensions=dimension_summary(model, shown),
        coverage=shown.coverage,
        disputed=any(c.disputed for c in shown.contributions)
        or any(r.in_dispute for tag in (*positive, *risks) for r in tag.evidence),
    )
