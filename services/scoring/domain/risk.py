"""Post-loan risk rules (贷后监测): compare an enterprise's previous and new state, return risk events with evidence.

Run on every record change of an enterprise with an outstanding loan. The first state taken when the loan is
registered is the baseline: conditions already true then are known to the lender and raise nothing. An event's
``key`` is deterministic, so a handler that receives the same change twice (at-least-once delivery) can drop the
replay. Score and grade comparisons are made only between evaluations under the same model version: after a model
is republished the caller re-evaluates the previous state under the new model first.

Keys are unique per enterprise only: the caller prefixes the enterprise, since one institution holds the alerts of
all its borrowers. Score and grade keys name the record revisions they compare, so the same drop happening again
later (the same scores, no changed record left to tell them apart: a record withdrawn twice) is a new alert.
:func:`alert_key` makes the stored key, bounded in length.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from services.kit.workdays import local_date
from services.scoring.domain.engine import Assessment, assess
from services.scoring.domain.extract import Source
from services.scoring.domain.model import Model, RecordRule
from services.scoring.domain.records import Record, RecordRef, by_item, ref


@dataclass(frozen=True)
class Snapshot:
    """An enterprise's state at one time: its current record versions and their assessment."""

    records: Mapping[str, Record]
    assessment: Assessment
    # the registry revision the records were read at (0: unknown); tells two score moves with the same figures apart
    revision: int = 0
    # when the assessment was made; tells apart two score moves between the same revisions made by the passing days
    as_of: datetime | None = None


@dataclass(frozen=True)
class RiskEvent:
    """One risk to push to the lending institution: what, how serious, why, and the record versions behind it."""

    risk: str
    severity: str
    reason: str
    evidence: tuple[RecordRef, ...]
    key: str
    flags: tuple[str, ...]


# The longest key an alert is stored with (the store's column holds this many characters).
ALERT_KEY_MAX = 400


def alert_key(uscc: str, event_key: str) -> str:
    """An institution's key for an enterprise's event. A score or grade key names every record changed since the last
    state, so a change of a dozen records outgrows the store: then the key's start and a digest of all of it, still
    the same for a replay of the same change and different for any other."""
    key = f"{uscc}:{event_key}"
    if len(key) <= ALERT_KEY_MAX:
        return key  # as stored before keys were bounded: a replay of an old change still finds its alert
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"{key[: ALERT_KEY_MAX - len(digest) - 1]}#{digest}"


def snapshot(model: Model, records: Iterable[Record], as_of: datetime, revision: int = 0) -> Snapshot:
    known = [r for rs in by_item(records, as_of).values() for r in rs]
    return Snapshot({r.record_id: r for r in known}, assess(model, known, as_of), revision, as_of)


def _matches(source: Source, record: Record) -> bool:
    return record.item_code == source.item and all(c.holds(record.fields) for c in source.where)


def _refs_key(refs: Iterable[RecordRef]) -> str:
    return ",".join(f"{r.record_id}@{r.version}" for r in sorted(refs))


def _record_events(rule: RecordRule, previous: Snapshot, current: Snapshot, flags: tuple[str, ...]) -> list[RiskEvent]:
    events = []
    for record in sorted(current.records.values(), key=lambda r: (r.record_id, r.version)):
        source = next((s for s in rule.extraction.sources if _matches(s, record)), None)
        if source is None:
            continue
        before = previous.records.get(record.record_id)
        if before is not None and (before.version >= record.version or _matches(source, before)):
            continue  # unchanged, or it already matched: the lender heard of it then
        what = "a new record" if before is None else f"version {record.version} of a record"
        conditions = " and ".join(f"{c.field} {c.op} {c.value}" for c in source.where) or "any"
        evidence = (ref(record),) if before is None else (ref(before), ref(record))
        events.append(
            RiskEvent(
                rule.risk,
                rule.severity,
                f"{what} on {record.item_code} matches {conditions}",
                evidence,
                f"{rule.risk}:{record.record_id}@{record.version}",
                flags,
            )
        )
    return events


def _changed(previous: Snapshot, current: Snapshot) -> tuple[RecordRef, ...]:
    """Record versions new since the previous state: the changes behind a score move."""
    out = []
    for record_id, record in current.records.items():
        before = previous.records.get(record_id)
        if before is None or before.version != record.version:
            out.append(ref(record))
    return tuple(sorted(out))


def detect_risks(model: Model, previous: Snapshot, current: Snapshot) -> list[RiskEvent]:
    """Risk events between two states of one enterprise, in a stable order."""
    flags = current.assessment.evaluation.flags
    events: list[RiskEvent] = []
    for rule in model.monitoring.record_rules:
        events += _record_events(rule, previous, current, flags)
    for signal_rule in model.monitoring.signal_rules:
        cond = signal_rule.condition
        now, before = current.assessment.value(cond.signal), previous.assessment.value(cond.signal)
        if cond.holds(now) and not cond.holds(before):
            evidence = current.assessment.values[cond.signal].evidence
            events.append(
                RiskEvent(
                    signal_rule.risk,
                    signal_rule.severity,
                    f"{cond.signal} is now {now:g} ({cond.op} {cond.value:g}); it was {_show(before)}",
                    evidence,
                    f"{signal_rule.risk}:{cond.signal}:{_refs_key(evidence) or now}",
                    flags,
                )
            )
    old, new = previous.assessment.evaluation, current.assessment.evaluation
    if old.model_version == new.model_version:
        changed = _changed(previous, current)
        compared = f"{new.model_version}:r{previous.revision}->r{current.revision}"
        if previous.revision == current.revision and previous.as_of is not None and current.as_of is not None:
            # No record moved (a day's re-check, a re-evaluation): the days the two states are of tell this drop
            # from the same drop on another day, which is a new event.
            compared += f":{local_date(previous.as_of)}->{local_date(current.as_of)}"
        drop = old.score - new.score
        mon = model.monitoring
        if drop >= mon.score_drop_points:
            events.append(
                RiskEvent(
                    "SCORE_DROP",
                    mon.score_drop_severity,
                    f"score fell {drop} points, from {old.score} to {new.score} (threshold {mon.score_drop_points:g})",
                    changed,
                    f"SCORE_DROP:{compared}:{old.score}->{new.score}:{_refs_key(changed)}",
                    flags,
                )
            )
        if new.grade_index > old.grade_index:
            events.append(
                RiskEvent(
                    "GRADE_DOWNGRADE",
                    mon.downgrade_severity,
                    f"grade fell from {old.grade} to {new.grade}",
                    changed,
                    f"GRADE_DOWNGRADE:{compared}:{old.grade}->{new.grade}:{_refs_key(changed)}",
                    flags,
                )
            )
    return events


def _show(value: float | None) -> str:
    return "missing" if value is None else f"{value:g}"
