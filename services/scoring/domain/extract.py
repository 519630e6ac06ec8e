"""Extractions: how one number (an indicator's or a signal's raw value) is computed from an enterprise's records.

Each extraction names a ``kind`` and its ``sources``: sharing-list items, with the fields that play each role
(a date, a period, a value…) and optional ``where`` conditions on fields. The kinds:

- ``years_since``       years from the latest record's ``date`` to the evaluation time
- ``latest``            the latest record's ``value`` (by ``order``, else event time), through an optional ``scale``
- ``count``             records matching ``where``, optionally only those dated within ``within_months``
- ``active``            records whose [``start``, ``end``) span covers the evaluation time (listings, certificates)
- ``trend``             sum of ``value`` over the last ``window_months`` periods divided by the sum ``lag_months``
                        earlier, minus 1 (growth); +1 when the earlier window summed to zero and the recent did not
- ``latest_max``        the largest ``value`` among each source's latest period (e.g. arrears across utilities)
- ``ratio``             sum of ``numerator`` over sum of ``denominator`` within ``within_months`` periods
- ``distinct_periods``  how many distinct periods within ``within_months`` have a matching record

Monthly data for month M arrives in month M+1, so period windows end ``anchor_lag_months`` (default 1) before
the evaluation month. Days and months are Asia/Shanghai's, as the departments' dates are (the evaluation time's
UTC date is still the day before from 00:00 to 08:00 in Xi'an). ``absent`` says what no matching record means:
``zero`` for counts of adverse or honour events (the department reports every case, so none means none),
``missing`` otherwise (the model's missing rule).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.kit.workdays import local_date
from services.scoring.domain.problems import Problems
from services.scoring.domain.records import Record, as_date, as_number, month_index, months_before, period_index

# item code -> field name -> field type ("date", "string", "int", "decimal", "bool", "enum"); from the sharing list.
Catalogue = Mapping[str, Mapping[str, str]]

NUMERIC = frozenset({"int", "decimal", "bool"})
OPS = ("eq", "ne", "in", "gt", "ge", "lt", "le", "is_null", "not_null")


@dataclass(frozen=True)
class KindSpec:
    """What a kind needs: role fields each source must name, optional ones, and kind-level parameters."""

    roles: tuple[str, ...]
    optional_roles: tuple[str, ...]
    params: tuple[str, ...]
    absent: str


KINDS: dict[str, KindSpec] = {
    "years_since": KindSpec(("date",), (), (), "missing"),
    "latest": KindSpec(("value",), ("order",), ("scale",), "missing"),
    "count": KindSpec((), ("date",), ("within_months",), "zero"),
    "active": KindSpec(("start",), ("end",), (), "zero"),
    "trend": KindSpec(("value", "period"), (), ("window_months", "lag_months", "anchor_lag_months"), "missing"),
    "latest_max": KindSpec(("value", "period"), (), ("stale_months", "anchor_lag_months"), "missing"),
    "ratio": KindSpec(("numerator", "denominator", "period"), (), ("within_months", "anchor_lag_months"), "missing"),
    "distinct_periods": KindSpec(("period",), (), ("within_months", "anchor_lag_months"), "zero"),
}
# which field types each role accepts
ROLE_TYPES: dict[str, frozenset[str]] = {
    "date": frozenset({"date"}),
    "start": frozenset({"date"}),
    "end": frozenset({"date"}),
    "period": frozenset({"string"}),
    "order": frozenset({"int", "date", "string"}),
    "value": NUMERIC,
    "numerator": NUMERIC,
    "denominator": NUMERIC,
}
_EQUALITY: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "in": lambda got, want: got in want,
}
_ORDER: dict[str, Callable[[float, Any], bool]] = {
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}
INT_PARAMS = ("within_months", "window_months", "lag_months", "anchor_lag_months", "stale_months")


@dataclass(frozen=True)
class Condition:
    """``field op value`` on one record; a record lacking the field matches only ``is_null``."""

    field: str
    op: str
    value: Any

    def holds(self, fields: Mapping[str, object]) -> bool:
        got = fields.get(self.field)
        if self.op in ("is_null", "not_null"):
            return (got is None) == (self.op == "is_null")
        if got is None:
            return False
        if self.op in ("eq", "ne", "in"):
            return bool(_EQUALITY[self.op](got, self.value))
        number = as_number(got)
        return number is not None and bool(_ORDER[self.op](number, self.value))


@dataclass(frozen=True)
class Source:
    """One item feeding an extraction: its role fields and its conditions."""

    item: str
    roles: Mapping[str, str]
    where: tuple[Condition, ...]

    def matching(self, grouped: Mapping[str, list[Record]]) -> list[Record]:
        records = grouped.get(self.item, ())
        if not self.where:
            return list(records)
        return [r for r in records if all(c.holds(r.fields) for c in self.where)]


@dataclass(frozen=True)
class Extraction:
    """A compiled extraction; ``run`` returns the value (None = missing) and the records it rests on."""

    kind: str
    sources: tuple[Source, ...]
    absent: str
    scale: Mapping[Any, float] | None = None
    within_months: int | None = None
    window_months: int = 12
    lag_months: int | None = None
    anchor_lag_months: int = 1
    stale_months: int = 6

    @property
    def items(self) -> frozenset[str]:
        return frozenset(s.item for s in self.sources)

    def run(self, grouped: Mapping[str, list[Record]], as_of: datetime) -> tuple[float | None, list[Record]]:
        value, used = _RUNNERS[self.kind](self, grouped, as_of)
        if value is None and not used and self.absent == "zero":
            return 0.0, used
        return value, used


def _years_since(
    x: Extraction, grouped: Mapping[str, list[Record]], as_of: datetime
) -> tuple[float | None, list[Record]]:
    best: tuple[datetime, Record, Source] | None = None
    for s in x.sources:
        for r in s.matching(grouped):
            if best is None or r.event_time > best[0]:
                best = (r.event_time, r, s)
    if best is None:
        return None, []
    day = as_date(best[1].fields.get(best[2].roles["date"]))
    if day is None:
        return None, []
    return max(0.0, (local_date(as_of) - day).days / 365.25), [best[1]]


def _latest(x: Extraction, grouped: Mapping[str, list[Record]], as_of: datetime) -> tuple[float | None, list[Record]]:
    best: tuple[Any, Record, Source] | None = None
    for s in x.sources:
        order = s.roles.get("order")
        for r in s.matching(grouped):
            key = (r.fields.get(order), r.event_time) if order else (r.event_time,)
            if key[0] is None:
                continue
            if best is None or key > best[0]:
                best = (key, r, s)
    if best is None:
        return None, []
    raw = best[1].fields.get(best[2].roles["value"])
    if x.scale is not None:
        scaled = x.scale.get(raw)
        return (None, []) if scaled is None else (float(scaled), [best[1]])
    number = as_number(raw)
    return (None, []) if number is None else (number, [best[1]])


def _in_window(x: Extraction, r: Record, s: Source, as_of: datetime) -> bool:
    if x.within_months is None:
        return True
    day = as_date(r.fields.get(s.roles["date"]))
    if day is None:
        return False
    today = local_date(as_of)
    return months_before(today, x.within_months) < day <= today


def _count(x: Extraction, grouped: Mapping[str, list[Record]], as_of: datetime) -> tuple[float | None, list[Record]]:
    used = [r for s in x.sources for r in s.matching(grouped) if _in_window(x, r, s, as_of)]
    return float(len(used)), used


def _active(x: Extraction, grouped: Mapping[str, list[Record]], as_of: datetime) -> tuple[float | None, list[Record]]:
    today = local_date(as_of)
    used = []
    for s in x.sources:
        end_field = s.roles.get("end")
        for r in s.matching(grouped):
            start = as_date(r.fields.get(s.roles["start"]))
            end = as_date(r.fields.get(end_field)) if end_field else None
            if start is not None and start <= today and (end is None or end > today):
                used.append(r)
    return float(len(used)), used


def _anchor(x: Extraction, as_of: datetime) -> int:
    today = local_date(as_of)
    return month_index(today.year, today.month) - x.anchor_lag_months


def _periodic(
    x: Extraction, grouped: Mapping[str, list[Record]], low: int, high: int
) -> list[tuple[int, Record, Source]]:
    """Matching records whose period p satisfies low < p <= high."""
    return [hit for s in x.sources for hit in _periodic_one(s, grouped, low, high)]


def _periodic_one(
    s: Source, grouped: Mapping[str, list[Record]], low: int, high: int
) -> list[tuple[int, Record, Source]]:
    out = []
    for r in s.matching(grouped):
        p = period_index(r.fields.get(s.roles["period"]))
        if p is not None and low < p <= high:
            out.append((p, r, s))
    return out


def _trend(x: Extraction, grouped: Mapping[str, list[Record]], as_of: datetime) -> tuple[float | None, list[Record]]:
    end = _anchor(x, as_of)
    window = x.window_months
    lag = x.lag_months if x.lag_months is not None else window
    recent = prior = 0.0
    seen_recent = seen_prior = False
    used = []
    for p, r, s in _periodic(x, grouped, end - lag - window, end):
        v = as_number(r.fields.get(s.roles["value"]))
        if v is None:
            continue
        if p > end - window:
            recent += v
            seen_recent = True
            used.append(r)
        elif end - lag - window < p <= end - lag:
            prior += v
            seen_prior = True
            used.append(r)
    if not (seen_recent or seen_prior):
        return None, []
    if prior <= 0.0:
        return (1.0 if recent > 0.0 else 0.0), used
    return recent / prior - 1.0, used


def _latest_max(
    x: Extraction, grouped: Mapping[str, list[Record]], as_of: datetime
) -> tuple[float | None, list[Record]]:
    end = _anchor(x, as_of)
    best: float | None = None
    used = []
    for s in x.sources:
        latest: tuple[int, Record] | None = None
        for p, r, _ in _periodic_one(s, grouped, end - x.stale_months - 1, end):
            if latest is None or p > latest[0]:
                latest = (p, r)
        if latest is None:
            continue
        v = as_number(latest[1].fields.get(s.roles["value"]))
        if v is None:
            continue
        used.append(latest[1])
        best = v if best is None else max(best, v)
    return best, used


def _ratio(x: Extraction, grouped: Mapping[str, list[Record]], as_of: datetime) -> tuple[float | None, list[Record]]:
    end = _anchor(x, as_of)
    months = x.within_months or 12
    num = den = 0.0
    used = []
    for _, r, s in _periodic(x, grouped, end - months, end):
        n = as_number(r.fields.get(s.roles["numerator"]))
        d = as_number(r.fields.get(s.roles["denominator"]))
        if n is None or d is None:
            continue
        num += n
        den += d
        used.append(r)
    if not used:
        return None, []
    # nothing was due: nothing could be left unpaid
    return (num / den if den > 0.0 else 1.0), used


def _distinct_periods(
    x: Extraction, grouped: Mapping[str, list[Record]], as_of: datetime
) -> tuple[float | None, list[Record]]:
    end = _anchor(x, as_of)
    found = _periodic(x, grouped, end - (x.within_months or 12), end)
    return float(len({p for p, _, _ in found})), [r for _, r, _ in found]


_RUNNERS = {
    "years_since": _years_since,
    "latest": _latest,
    "count": _count,
    "active": _active,
    "trend": _trend,
    "latest_max": _latest_max,
    "ratio": _ratio,
    "distinct_periods": _distinct_periods,
}


def parse_extraction(doc: object, where: str, catalogue: Catalogue | None, problems: Problems) -> Extraction | None:
    """Read an ``extract:`` block; every problem found goes to ``problems`` (None when it cannot be compiled)."""
    if not isinstance(doc, Mapping):
        problems.add("BAD_EXTRACTION", where, "extract must be a mapping with kind and sources")
        return None
    kind = doc.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        problems.add("UNKNOWN_KIND", f"{where}.kind", f"unknown extraction kind {kind!r}; known: {', '.join(KINDS)}")
        return None
    spec = KINDS[kind]
    allowed = {"kind", "sources", "absent", *spec.params}
    for key in doc:
        if key not in allowed:
            problems.add("BAD_PARAM", f"{where}.{key}", f"{kind} takes no parameter {key!r}")
    sources_doc = doc.get("sources")
    if not isinstance(sources_doc, Sequence) or isinstance(sources_doc, str) or not sources_doc:
        problems.add("BAD_EXTRACTION", f"{where}.sources", "sources must be a non-empty list")
        return None
    start = len(problems.items)
    sources = [
        _parse_source(s, f"{where}.sources[{i}]", spec, kind, doc, catalogue, problems)
        for i, s in enumerate(sources_doc)
    ]
    absent = doc.get("absent", spec.absent)
    if absent not in ("zero", "missing"):
        problems.add("BAD_PARAM", f"{where}.absent", "absent must be zero or missing")
    ints: dict[str, int] = {}
    for name in INT_PARAMS:
        if name in doc:
            value = doc[name]
            if (
                not isinstance(value, int)
                or isinstance(value, bool)
                or value < (0 if name == "anchor_lag_months" else 1)
            ):
                problems.add("BAD_PARAM", f"{where}.{name}", f"{name} must be a positive whole number of months")
            else:
                ints[name] = value
    scale = doc.get("scale")
    if scale is not None and (
        not isinstance(scale, Mapping) or not all(_is_number(v) for v in scale.values()) or not scale
    ):
        problems.add("BAD_PARAM", f"{where}.scale", "scale must map field values to numbers")
        scale = None
    _check_orders(kind, sources, where, catalogue, problems)
    if len(problems.items) > start or any(s is None for s in sources):
        return None
    return Extraction(
        kind=kind,
        sources=tuple(s for s in sources if s is not None),
        absent=str(absent),
        scale={k: float(v) for k, v in scale.items()} if isinstance(scale, Mapping) else None,
        **ints,
    )


def _check_orders(
    kind: str, sources: Sequence[Source | None], where: str, catalogue: Catalogue | None, problems: Problems
) -> None:
    """``latest`` compares records across its sources by (order value, event time): one source without an order
    field, or order fields of two types (a year and a date), could not be compared, and every evaluation of an
    enterprise with records of both would fail."""
    if kind != "latest":
        return
    parsed = [s for s in sources if s is not None]
    if len({"order" in s.roles for s in parsed}) > 1:
        problems.add("BAD_EXTRACTION", f"{where}.sources", "either every source names its order field or none does")
        return
    if catalogue is None:
        return
    types = {catalogue.get(s.item, {}).get(s.roles["order"]) for s in parsed if "order" in s.roles}
    if len(types - {None}) > 1:
        problems.add("FIELD_TYPE", f"{where}.sources", "the sources' order fields must be of one type to compare them")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _parse_source(
    doc: object,
    where: str,
    spec: KindSpec,
    kind: str,
    extraction: Mapping[str, Any],
    catalogue: Catalogue | None,
    problems: Problems,
) -> Source | None:
    if not isinstance(doc, Mapping) or not isinstance(doc.get("item"), str):
        problems.add("BAD_EXTRACTION", where, "a source must be a mapping naming its item")
        return None
    item = doc["item"]
    fields = catalogue.get(item) if catalogue is not None else None
    if catalogue is not None and fields is None:
        problems.add("UNKNOWN_ITEM", f"{where}.item", f"item {item} is not on the sharing list")
    roles: dict[str, str] = {}
    needs_date = kind == "count" and "within_months" in extraction
    required = (*spec.roles, "date") if needs_date else spec.roles
    for role in (*spec.roles, *spec.optional_roles):
        name = doc.get(role)
        if name is None:
            if role in required:
                problems.add("BAD_EXTRACTION", f"{where}.{role}", f"{kind} needs the field playing {role}")
            continue
        if not isinstance(name, str):
            problems.add("BAD_EXTRACTION", f"{where}.{role}", "a role names one field")
            continue
        roles[role] = name
        if fields is not None:
            _check_field(item, name, fields, ROLE_TYPES[role], role, f"{where}.{role}", kind, extraction, problems)
    for key in doc:
        if key not in {"item", "where", *spec.roles, *spec.optional_roles}:
            problems.add("BAD_PARAM", f"{where}.{key}", f"a {kind} source has no {key!r}")
    conditions = []
    where_doc = doc.get("where", [])
    if not isinstance(where_doc, Sequence) or isinstance(where_doc, str):
        problems.add("BAD_CONDITION", f"{where}.where", "where must be a list of {field, op, value}")
        where_doc = []
    for i, c in enumerate(where_doc):
        cond = _parse_condition(c, f"{where}.where[{i}]", item, fields, problems)
        if cond is not None:
            conditions.append(cond)
    return Source(item, roles, tuple(conditions))


def _check_field(
    item: str,
    name: str,
    fields: Mapping[str, str],
    accepted: frozenset[str],
    role: str,
    where: str,
    kind: str,
    extraction: Mapping[str, Any],
    problems: Problems,
) -> None:
    ftype = fields.get(name)
    if ftype is None:
        problems.add("UNKNOWN_FIELD", where, f"item {item} has no field {name}")
        return
    if role == "value" and kind == "latest" and extraction.get("scale") is not None:
        return  # a scale maps any value (an enum, a grade) to a number
    if ftype and ftype not in accepted:
        problems.add("FIELD_TYPE", where, f"{item}.{name} is {ftype}; {role} needs {'/'.join(sorted(accepted))}")


def _parse_condition(
    doc: object, where: str, item: str, fields: Mapping[str, str] | None, problems: Problems
) -> Condition | None:
    if not isinstance(doc, Mapping) or not isinstance(doc.get("field"), str) or doc.get("op") not in OPS:
        problems.add("BAD_CONDITION", where, f"a condition is {{field, op, value}} with op one of {', '.join(OPS)}")
        return None
    name, op, value = doc["field"], doc["op"], doc.get("value")
    if fields is not None and name not in fields:
        problems.add("UNKNOWN_FIELD", f"{where}.field", f"item {item} has no field {name}")
        return None
    if op == "in":
        # values are plain scalars, as field values are (a mapping or list in the list cannot even be hashed)
        if (
            not isinstance(value, Sequence)
            or isinstance(value, str)
            or not all(v is None or isinstance(v, str | int | float) for v in value)
        ):
            problems.add("BAD_CONDITION", f"{where}.value", "op in needs a list of values")
            return None
        value = frozenset(value)
    elif op in ("gt", "ge", "lt", "le") and not _is_number(value):
        problems.add("BAD_CONDITION", f"{where}.value", f"op {op} needs a number")
        return None
    return Condition(name, op, value)
