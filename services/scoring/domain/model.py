"""The indicator system as data: validate a model document (YAML) and compile it into a scorecard and extractions.

A model maps each indicator's raw value to 0-100 points (bins or a linear formula), weighs the points (weights add up
to 1) and scales the sum to 0-1000. A missing value gets the indicator's missing rule: fixed points, the worst points,
or ``exclude`` (the indicator drops out and the other weights are scaled up). Publishing rejects a document, with every
reason, when it names unknown items or fields, its weights do not add up, its bins leave gaps or overlap, its points
run against the stated direction, or its grade cut-offs are out of order.
"""

from __future__ import annotations

import json
import math
import operator
import re
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from services.scoring.domain.extract import Catalogue, Extraction, parse_extraction
from services.scoring.domain.problems import ModelRejected, Problem, Problems, yaml_problem

GRADES = ("AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C")
DIMENSIONS = (
    "basic",
    "operations",
    "tax",
    "social_insurance",
    "utilities",
    "judicial",
    "penalties",
    "discipline",
    "honours",
)
DIRECTIONS = ("higher_is_better", "lower_is_better")
MAX_SCORE = 1000.0
WEIGHT_TOLERANCE = 1e-9
TAG_KINDS = ("POSITIVE", "RISK")
COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}
TAG_OPS = tuple(COMPARE)
# What the store keeps of a model besides its text, each in a column of bounded width: the version (a resource name,
# models/{version}, and every evaluation's), the title, each alert's risk, and the discipline flags an evaluation or
# an alert carries (as a JSON list). A document beyond them is refused here, not by one backend's column later.
VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")
MAX_TITLE = 200
MAX_RISK = 60
MAX_FLAGS_JSON = 400


@dataclass(frozen=True)
class Bins:
    """Half-open intervals [lower, upper) over the raw value; ``edges`` are the inner bounds, ascending."""

    edges: tuple[float, ...]
    points: tuple[float, ...]
    labels: tuple[str, ...]

    def index(self, x: float) -> int:
        # bisect_right: a value on a bound belongs to the upper bin, as numpy's searchsorted(side="right") in batch
        return bisect_right(self.edges, x)


@dataclass(frozen=True)
class Linear:
    """Points = 100 * clip((x - worst) / (best - worst), 0, 1): a straight line from the worst to the best value."""

    worst: float
    best: float


@dataclass(frozen=True)
class ScoredIndicator:
    """One weighted indicator of a scorecard; ``missing_points`` None means the indicator is excluded when missing."""

    code: str
    name: str
    dimension: str
    weight: float
    direction: str
    bins: Bins | None
    linear: Linear | None
    missing_points: float | None
    # the missing rule was "worst": missing_points are the bins' lowest, and stay the lowest when a scenario re-bins
    missing_worst: bool = False

    def points(self, x: float) -> float:
        if self.bins is not None:
            return self.bins.points[self.bins.index(x)]
        assert self.linear is not None
        t = (x - self.linear.worst) / (self.linear.best - self.linear.worst)
        return min(max(t, 0.0), 1.0) * 100.0

    def bin_label(self, x: float) -> str:
        if self.bins is not None:
            return self.bins.labels[self.bins.index(x)]
        return "linear"


@dataclass(frozen=True)
class Trigger:
    """A discipline trigger: when the signal's value is above zero the enterprise carries ``flag`` and the cap."""

    signal: str
    flag: str


@dataclass(frozen=True)
class Scorecard:
    """What evaluation needs: indicators, grade cut-offs, discipline; raw values come in ``columns`` order."""

    version: str
    indicators: tuple[ScoredIndicator, ...]
    grade_mins: tuple[float, ...]
    triggers: tuple[Trigger, ...] = ()
    cap_grade: str | None = None
    columns: tuple[str, ...] = field(init=False)
    trigger_columns: tuple[int, ...] = field(init=False)

    def __post_init__(self) -> None:
        codes = [i.code for i in self.indicators]
        extra = [t.signal for t in self.triggers if t.signal not in codes]
        columns = tuple(codes + list(dict.fromkeys(extra)))
        object.__setattr__(self, "columns", columns)
        object.__setattr__(self, "trigger_columns", tuple(columns.index(t.signal) for t in self.triggers))

    @property
    def cap_index(self) -> int | None:
        return None if self.cap_grade is None else GRADES.index(self.cap_grade)

    @property
    def cap_score(self) -> float | None:
        """Highest score a disciplined enterprise keeps: just under the next better grade, so score and grade agree."""
        cap = self.cap_index
        if cap is None:
            return None
        # Scores are whole numbers and a cut-off may not be (a scenario's are doubles): under 500.5 is 500, not 499.5.
        return MAX_SCORE if cap == 0 else math.ceil(self.grade_mins[cap - 1]) - 1.0


@dataclass(frozen=True)
class TagCondition:
    signal: str
    op: str
    value: float

    def holds(self, x: float | None) -> bool:
        if x is None or math.isnan(x):
            return False
        return bool(COMPARE[self.op](x, self.value))


@dataclass(frozen=True)
class TagRule:
    """A portrait tag: shown when every condition on indicator or signal values holds."""

    code: str
    label: str
    kind: str
    conditions: tuple[TagCondition, ...]


@dataclass(frozen=True)
class SignalRule:
    """A post-loan risk raised when a signal's condition starts to hold (it did not before)."""

    risk: str
    severity: str
    condition: TagCondition


@dataclass(frozen=True)
class RecordRule:
    """A post-loan risk raised by a record that newly matches (new record, or a new version that now matches)."""

    risk: str
    severity: str
    extraction: Extraction  # kind "count": its sources and conditions say which records match


@dataclass(frozen=True)
class Monitoring:
    """Post-loan risk rules of a model."""

    score_drop_points: float = 50.0
    score_drop_severity: str = "MEDIUM"
    downgrade_severity: str = "MEDIUM"
    record_rules: tuple[RecordRule, ...] = ()
    signal_rules: tuple[SignalRule, ...] = ()


@dataclass(frozen=True)
class Model:
    """A published indicator system: the scorecard plus how each raw value is extracted, tags and risk rules."""

    version: str
    title: str
    dimensions: Mapping[str, str]
    card: Scorecard
    extractions: Mapping[str, Extraction]
    signal_names: Mapping[str, str]
    tags: tuple[TagRule, ...] = ()
    monitoring: Monitoring = Monitoring()
    document: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def items(self) -> frozenset[str]:
        """Every sharing-list item the model reads."""
        return frozenset(i for x in self.extractions.values() for i in x.items)


def load_model(text: str, catalogue: Catalogue | None = None) -> Model:
    """Parse a model's YAML text; raise ModelRejected naming every problem."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ModelRejected([yaml_problem(exc)]) from None
    return compile_model(doc, catalogue)


def check_model(doc: object, catalogue: Catalogue | None = None) -> list[Problem]:
    """Every reason the document would be rejected (empty when it is publishable)."""
    try:
        compile_model(doc, catalogue)
    except ModelRejected as rejected:
        return list(rejected.problems)
    return []


def compile_model(doc: object, catalogue: Catalogue | None = None) -> Model:
    """Validate and compile a model document. ``catalogue`` (item -> field -> type) checks items and fields."""
    problems = Problems()
    if not isinstance(doc, Mapping):
        raise ModelRejected([Problem("BAD_DOCUMENT", "document", "a model is a mapping")])
    version = doc.get("version")
    if not isinstance(version, str) or not VERSION.fullmatch(version):
        problems.add(
            "BAD_DOCUMENT", "version", "version is 1-80 letters, digits, dots, dashes or underscores, such as basic-v1"
        )
        version = ""
    title = str(doc.get("title", version))
    if len(title) > MAX_TITLE or any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in title):
        problems.add("BAD_DOCUMENT", "title", f"title is at most {MAX_TITLE} characters, without control characters")
    dimensions = _parse_dimensions(doc.get("dimensions"), problems)
    grade_mins = parse_grades(doc.get("grades"), "grades", problems)
    extractions: dict[str, Extraction] = {}
    indicators = _parse_indicators(doc.get("indicators"), dimensions, catalogue, extractions, problems)
    signal_names = _parse_signals(doc.get("signals", []), catalogue, extractions, problems)
    # declared codes, not only compiled ones: one broken extraction should not cascade into "unknown signal" noise
    known = set(extractions) | {i.code for i in indicators} | set(signal_names)
    triggers, cap = _parse_discipline(doc.get("discipline"), known, problems)
    tags = _parse_tags(doc.get("tags", []), known, problems)
    monitoring = _parse_monitoring(doc.get("monitoring", {}), known, catalogue, problems)
    if problems:
        raise ModelRejected(problems.items)
    card = Scorecard(str(version), tuple(indicators), grade_mins, triggers, cap)
    return Model(
        version=str(version),
        title=title,
        dimensions=dimensions,
        card=card,
        extractions=extractions,
        signal_names=signal_names,
        tags=tags,
        monitoring=monitoring,
        document=dict(doc),
    )


def _parse_dimensions(doc: object, problems: Problems) -> dict[str, str]:
    if not isinstance(doc, Mapping):
        problems.add("BAD_DOCUMENT", "dimensions", "dimensions map each dimension code to its name")
        return {}
    for code in DIMENSIONS:
        if code not in doc:
            problems.add("DIMENSION_MISSING", f"dimensions.{code}", f"the indicator system must cover {code}")
    for code in doc:
        if code not in DIMENSIONS:
            problems.add("UNKNOWN_DIMENSION", f"dimensions.{code}", f"dimensions are {', '.join(DIMENSIONS)}")
    return {str(k): str(v) for k, v in doc.items()}


def parse_grades(doc: object, where: str, problems: Problems) -> tuple[float, ...]:
    """Minimum score of each grade, best first: all nine grades, strictly decreasing, C at 0."""
    if not isinstance(doc, Mapping) or list(doc) != list(GRADES):
        problems.add("BAD_CUTOFFS", where, f"grades must list {', '.join(GRADES)} in that order with minimum scores")
        return (0.0,) * len(GRADES)
    mins = []
    for grade in GRADES:
        value = doc[grade]
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= MAX_SCORE:
            problems.add("BAD_CUTOFFS", f"{where}.{grade}", "a minimum score is a number from 0 to 1000")
            value = 0
        mins.append(float(value))
    for better, worse, a, b in zip(GRADES, GRADES[1:], mins, mins[1:], strict=False):
        if b >= a:
            problems.add("BAD_CUTOFFS", f"{where}.{worse}", f"{worse}'s minimum must be below {better}'s")
    if mins[-1] != 0.0:
        problems.add("BAD_CUTOFFS", f"{where}.C", "C is the floor: its minimum is 0")
    return tuple(mins)


def parse_weight(doc: object, where: str, problems: Problems) -> float:
    if not isinstance(doc, int | float) or isinstance(doc, bool) or not 0 < doc <= 1:
        problems.add("BAD_WEIGHT", where, "a weight is a number above 0 and at most 1")
        return 0.0
    return float(doc)


def check_weights(weights: Sequence[float], where: str, problems: Problems) -> None:
    total = math.fsum(weights)
    if abs(total - 1.0) > WEIGHT_TOLERANCE:
        problems.add("WEIGHTS_SUM", where, f"weights add up to {total:.6g}, not 1")


def parse_scoring(
    doc: Mapping[str, Any], where: str, direction: str, problems: Problems
) -> tuple[Bins | None, Linear | None, float | None]:
    """Read ``bins`` or ``linear`` and the ``missing`` rule of one indicator."""
    bins = linear = None
    if ("bins" in doc) == ("linear" in doc):
        problems.add("BAD_SCORING", where, "an indicator has either bins or a linear formula")
    elif "bins" in doc:
        bins = parse_bins(doc["bins"], f"{where}.bins", direction, problems)
    else:
        linear = _parse_linear(doc["linear"], f"{where}.linear", direction, problems)
    missing = doc.get("missing")
    missing_points: float | None = 0.0
    rule = missing.get("rule") if isinstance(missing, Mapping) else None
    if rule == "points":
        value = missing.get("points") if isinstance(missing, Mapping) else None
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 100:
            problems.add("BAD_MISSING_RULE", f"{where}.missing.points", "missing points are 0 to 100")
        else:
            missing_points = float(value)
    elif rule == "worst":
        missing_points = min(bins.points) if bins is not None else 0.0
    elif rule == "exclude":
        missing_points = None
    else:
        problems.add("BAD_MISSING_RULE", f"{where}.missing", "missing is {rule: points, points: N}, worst or exclude")
    return bins, linear, missing_points


def missing_is_worst(doc: Mapping[str, Any]) -> bool:
    """Whether an indicator document's missing rule is ``worst``."""
    missing = doc.get("missing")
    return isinstance(missing, Mapping) and missing.get("rule") == "worst"


def parse_bins(doc: object, where: str, direction: str, problems: Problems) -> Bins | None:
    """Bins cover the line once: the first has no lower bound, the last no upper, each upper meets the next lower."""
    if not isinstance(doc, Sequence) or isinstance(doc, str) or not doc:
        problems.add("BAD_BINS", where, "bins is a non-empty list of {lower, upper, points}")
        return None
    start = len(problems.items)
    lowers: list[float] = []
    uppers: list[float] = []
    points: list[float] = []
    labels: list[str] = []
    for i, b in enumerate(doc):
        at = f"{where}[{i}]"
        if not isinstance(b, Mapping):
            problems.add("BAD_BINS", at, "a bin is {lower, upper, points}")
            return None
        lower = _bound(b.get("lower"), -math.inf, f"{at}.lower", problems)
        upper = _bound(b.get("upper"), math.inf, f"{at}.upper", problems)
        p = b.get("points")
        if not isinstance(p, int | float) or isinstance(p, bool) or not 0 <= p <= 100:
            problems.add("POINTS_RANGE", f"{at}.points", "points are 0 to 100")
            p = 0
        if not lower < upper:
            problems.add("BIN_EMPTY", at, f"lower {lower} is not below upper {upper}")
        lowers.append(lower)
        uppers.append(upper)
        points.append(float(p))
        labels.append(str(b.get("label") or _label(lower, upper)))
    _check_cover(lowers, uppers, where, problems)
    if len(problems.items) > start:
        return None
    step = 1.0 if direction == "higher_is_better" else -1.0
    for i in range(len(points) - 1):
        if (points[i + 1] - points[i]) * step < 0:
            problems.add("DIRECTION", f"{where}[{i + 1}].points", f"points run against {direction}")
            break
    return Bins(tuple(uppers[:-1]), tuple(points), tuple(labels))


def _check_cover(lowers: list[float], uppers: list[float], where: str, problems: Problems) -> None:
    """Each value must fall in exactly one bin: no open end left uncovered, no gap, no overlap."""
    if lowers[0] != -math.inf:
        problems.add("BIN_UNBOUNDED", f"{where}[0].lower", f"values below {lowers[0]} fall in no bin: omit lower")
    if uppers[-1] != math.inf:
        problems.add("BIN_UNBOUNDED", f"{where}[{len(uppers) - 1}].upper", f"values from {uppers[-1]} fall in no bin")
    for i in range(len(uppers) - 1):
        if uppers[i] < lowers[i + 1]:
            problems.add("BIN_GAP", f"{where}[{i + 1}]", f"values from {uppers[i]} to {lowers[i + 1]} fall in no bin")
        elif uppers[i] > lowers[i + 1]:
            problems.add(
                "BIN_OVERLAP", f"{where}[{i + 1}]", f"values from {lowers[i + 1]} to {uppers[i]} fall in two bins"
            )


def _bound(value: object, default: float, where: str, problems: Problems) -> float:
    if value is None:
        return default
    if not isinstance(value, int | float) or isinstance(value, bool) or math.isnan(value):
        problems.add("BAD_BINS", where, "a bound is a number (omit it for an open end)")
        return default
    return float(value)


def _label(lower: float, upper: float) -> str:
    if lower == -math.inf:
        return f"< {upper:g}"
    if upper == math.inf:
        return f">= {lower:g}"
    return f"[{lower:g}, {upper:g})"


def _parse_linear(doc: object, where: str, direction: str, problems: Problems) -> Linear | None:
    if not isinstance(doc, Mapping):
        problems.add("BAD_SCORING", where, "linear is {worst, best}")
        return None
    worst, best = doc.get("worst"), doc.get("best")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (worst, best)) or worst == best:
        problems.add("BAD_SCORING", where, "linear needs two different numbers worst and best")
        return None
    assert isinstance(worst, int | float)
    assert isinstance(best, int | float)
    if (best > worst) != (direction == "higher_is_better"):
        problems.add("DIRECTION", where, f"best {best} and worst {worst} contradict {direction}")
    return Linear(float(worst), float(best))


def _parse_indicators(
    doc: object,
    dimensions: Mapping[str, str],
    catalogue: Catalogue | None,
    extractions: dict[str, Extraction],
    problems: Problems,
) -> list[ScoredIndicator]:
    if not isinstance(doc, Sequence) or isinstance(doc, str) or not doc:
        problems.add("BAD_DOCUMENT", "indicators", "indicators is a non-empty list")
        return []
    out: list[ScoredIndicator] = []
    weights: list[float] = []
    for i, ind in enumerate(doc):
        code = ind.get("code") if isinstance(ind, Mapping) else None
        where = f"indicators.{code}" if isinstance(code, str) else f"indicators[{i}]"
        if not isinstance(ind, Mapping) or not isinstance(code, str) or not code:
            problems.add("BAD_INDICATOR", where, "an indicator is a mapping with a code")
            continue
        if code in extractions:
            problems.add("DUPLICATE_CODE", where, f"code {code} is used twice")
        dimension = ind.get("dimension")
        if dimension not in dimensions:
            problems.add("UNKNOWN_DIMENSION", f"{where}.dimension", f"{dimension!r} is not a declared dimension")
        direction = ind.get("direction")
        if direction not in DIRECTIONS:
            problems.add("BAD_DIRECTION", f"{where}.direction", f"direction is one of {', '.join(DIRECTIONS)}")
            direction = DIRECTIONS[0]
        weight = parse_weight(ind.get("weight"), f"{where}.weight", problems)
        weights.append(weight)
        extraction = parse_extraction(ind.get("extract"), f"{where}.extract", catalogue, problems)
        if extraction is not None:
            extractions[code] = extraction
        bins, linear, missing = parse_scoring(ind, where, str(direction), problems)
        out.append(
            ScoredIndicator(
                code,
                str(ind.get("name", code)),
                str(dimension),
                weight,
                str(direction),
                bins,
                linear,
                missing,
                missing_is_worst(ind),
            )
        )
    check_weights(weights, "indicators", problems)
    used = {i.dimension for i in out}
    for code in dimensions:
        if code not in used:
            problems.add("DIMENSION_EMPTY", f"dimensions.{code}", f"no indicator measures {code}")
    return out


def _parse_signals(
    doc: object, catalogue: Catalogue | None, extractions: dict[str, Extraction], problems: Problems
) -> dict[str, str]:
    names: dict[str, str] = {}
    if not isinstance(doc, Sequence) or isinstance(doc, str):
        problems.add("BAD_DOCUMENT", "signals", "signals is a list")
        return names
    for i, sig in enumerate(doc):
        code = sig.get("code") if isinstance(sig, Mapping) else None
        where = f"signals.{code}" if isinstance(code, str) else f"signals[{i}]"
        if not isinstance(sig, Mapping) or not isinstance(code, str) or not code:
            problems.add("BAD_SIGNAL", where, "a signal is a mapping with a code and an extract")
            continue
        if code in extractions:
            problems.add("DUPLICATE_CODE", where, f"code {code} is used twice")
        extraction = parse_extraction(sig.get("extract"), f"{where}.extract", catalogue, problems)
        if extraction is not None:
            extractions[code] = extraction
        names[code] = str(sig.get("name", code))
    return names


def _parse_discipline(doc: object, known: set[str], problems: Problems) -> tuple[tuple[Trigger, ...], str | None]:
    if not isinstance(doc, Mapping):
        problems.add("BAD_DISCIPLINE", "discipline", "discipline is {cap, triggers}")
        return (), None
    cap = doc.get("cap")
    if cap not in GRADES:
        problems.add("BAD_DISCIPLINE", "discipline.cap", f"cap is one of {', '.join(GRADES)}")
        cap = None
    triggers = []
    raw = doc.get("triggers")
    if not isinstance(raw, Sequence) or isinstance(raw, str) or not raw:
        problems.add("BAD_DISCIPLINE", "discipline.triggers", "triggers is a non-empty list of {signal, flag}")
        raw = []
    for i, t in enumerate(raw):
        where = f"discipline.triggers[{i}]"
        if not isinstance(t, Mapping) or not isinstance(t.get("flag"), str) or not isinstance(t.get("signal"), str):
            problems.add("BAD_DISCIPLINE", where, "a trigger is {signal, flag}")
            continue
        if t["signal"] not in known:
            problems.add("UNKNOWN_SIGNAL", f"{where}.signal", f"no indicator or signal is called {t['signal']}")
        triggers.append(Trigger(t["signal"], t["flag"]))
    if len(json.dumps(list(dict.fromkeys(t.flag for t in triggers)))) > MAX_FLAGS_JSON:
        problems.add(
            "BAD_DISCIPLINE", "discipline.triggers", f"the flags together take more than {MAX_FLAGS_JSON} characters"
        )
    return tuple(triggers), cap if isinstance(cap, str) else None


def parse_condition(doc: object, where: str, known: set[str], problems: Problems) -> TagCondition | None:
    if not isinstance(doc, Mapping) or not isinstance(doc.get("signal"), str) or doc.get("op") not in TAG_OPS:
        problems.add(
            "BAD_CONDITION", where, f"a condition is {{signal, op, value}} with op one of {', '.join(TAG_OPS)}"
        )
        return None
    if doc["signal"] not in known:
        problems.add("UNKNOWN_SIGNAL", f"{where}.signal", f"no indicator or signal is called {doc['signal']}")
        return None
    value = doc.get("value")
    if not isinstance(value, int | float) or isinstance(value, bool):
        problems.add("BAD_CONDITION", f"{where}.value", "compare with a number")
        return None
    return TagCondition(doc["signal"], doc["op"], float(value))


def _parse_tags(doc: object, known: set[str], problems: Problems) -> tuple[TagRule, ...]:
    if not isinstance(doc, Sequence) or isinstance(doc, str):
        problems.add("BAD_DOCUMENT", "tags", "tags is a list")
        return ()
    out = []
    for i, tag in enumerate(doc):
        where = f"tags[{i}]"
        if not isinstance(tag, Mapping) or not isinstance(tag.get("code"), str) or tag.get("kind") not in TAG_KINDS:
            problems.add("BAD_TAG", where, f"a tag is {{code, label, kind ({'/'.join(TAG_KINDS)}), when}}")
            continue
        when = tag.get("when")
        if not isinstance(when, Sequence) or isinstance(when, str) or not when:
            problems.add("BAD_TAG", f"{where}.when", "when is a non-empty list of conditions")
            continue
        conditions = [parse_condition(c, f"{where}.when[{j}]", known, problems) for j, c in enumerate(when)]
        out.append(
            TagRule(tag["code"], str(tag.get("label", tag["code"])), tag["kind"], tuple(c for c in conditions if c))
        )
    return tuple(out)


def _severity(doc: Mapping[str, Any], where: str, problems: Problems) -> str:
    severity = doc.get("severity", "MEDIUM")
    if severity not in ("HIGH", "MEDIUM", "LOW"):
        problems.add("BAD_MONITORING", f"{where}.severity", "severity is HIGH, MEDIUM or LOW")
        return "MEDIUM"
    return str(severity)


def _parse_monitoring(doc: object, known: set[str], catalogue: Catalogue | None, problems: Problems) -> Monitoring:
    if not isinstance(doc, Mapping):
        problems.add("BAD_MONITORING", "monitoring", "monitoring is a mapping")
        return Monitoring()
    drop = doc.get("score_drop_points", 50)
    if not isinstance(drop, int | float) or isinstance(drop, bool) or not 0 < drop <= MAX_SCORE:
        problems.add("BAD_MONITORING", "monitoring.score_drop_points", "a score drop threshold is 1 to 1000 points")
        drop = 50
    return Monitoring(
        score_drop_points=float(drop),
        score_drop_severity=_severity(doc.get("score_drop", {}) or {}, "monitoring.score_drop", problems),
        downgrade_severity=_severity(doc.get("downgrade", {}) or {}, "monitoring.downgrade", problems),
        record_rules=_record_rules(doc.get("record_rules", []) or [], catalogue, problems),
        signal_rules=_signal_rules(doc.get("signal_rules", []) or [], known, problems),
    )


def _record_rules(doc: Sequence[Any], catalogue: Catalogue | None, problems: Problems) -> tuple[RecordRule, ...]:
    out = []
    for i, rule in enumerate(doc):
        where = f"monitoring.record_rules[{i}]"
        if not isinstance(rule, Mapping) or not isinstance(rule.get("risk"), str):
            problems.add("BAD_MONITORING", where, "a record rule is {risk, severity, sources}")
            continue
        if not 0 < len(rule["risk"]) <= MAX_RISK:
            problems.add("BAD_MONITORING", f"{where}.risk", f"a risk is 1-{MAX_RISK} characters")
            continue
        extraction = parse_extraction({"kind": "count", "sources": rule.get("sources")}, where, catalogue, problems)
        if extraction is not None:
            out.append(RecordRule(rule["risk"], _severity(rule, where, problems), extraction))
    return tuple(out)


def _signal_rules(doc: Sequence[Any], known: set[str], problems: Problems) -> tuple[SignalRule, ...]:
    out = []
    for i, rule in enumerate(doc):
        where = f"monitoring.signal_rules[{i}]"
        if not isinstance(rule, Mapping) or not isinstance(rule.get("risk"), str):
            problems.add("BAD_MONITORING", where, "a signal rule is {risk, severity, when}")
            continue
        if not 0 < len(rule["risk"]) <= MAX_RISK:
            problems.add("BAD_MONITORING", f"{where}.risk", f"a risk is 1-{MAX_RISK} characters")
            continue
        condition = parse_condition(rule.get("when"), f"{where}.when", known, problems)
        if condition is not None:
            out.append(SignalRule(rule["risk"], _severity(rule, where, problems), condition))
    return tuple(out)
