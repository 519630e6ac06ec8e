"""Supervision figures over objections: share forwarded on time, share handled on time, median days."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.objection.domain.values import ForwardTimeliness

_DAY = timedelta(days=1)


@dataclass(frozen=True)
class SlaFacts:
    """What the figures need from one objection (the store can produce these without loading whole aggregates)."""

    forward_timeliness: ForwardTimeliness
    received_at: datetime
    forwarded_at: datetime
    resolved_at: datetime | None
    # handling_due_before is clock 2's end, extensions included.
    handling_due_before: datetime


@dataclass(frozen=True)
class Share:
    """``part`` of ``whole``; kept as counts so a caller can aggregate further and nothing divides by zero."""

    part: int
    whole: int

    @property
    def ratio(self) -> float | None:
        """None when there is nothing to measure."""
        return self.part / self.whole if self.whole else None


@dataclass(frozen=True)
class SlaFigures:
    """Supervision figures for a set of objections, as of ``now``."""

    objections: int
    open: int
    # overdue are open objections past clock 2.
    overdue: int
    # forwarded_on_time is over objections whose forwarding timeliness is decided.
    forwarded_on_time: Share
    # forwarding_unknown counts objections whose clock 1 waits for a calendar that is not loaded.
    forwarding_unknown: int
    # handled_on_time is over objections whose clock 2 is decided: resolved ones, and open ones already overdue.
    handled_on_time: Share
    # median_forwarding_days is elapsed days from the platform's receipt to the node's (all objections).
    median_forwarding_days: float | None
    # median_handling_days is elapsed days from the node's receipt to resolution (resolved objections).
    median_handling_days: float | None


def sla_figures(facts: Iterable[SlaFacts], now: datetime) -> SlaFigures:
    """Compute the figures; a pure function, so the same rows always give the same figures."""
    rows = list(facts)
    known = [f for f in rows if f.forward_timeliness is not ForwardTimeliness.UNKNOWN]
    resolved = [f for f in rows if f.resolved_at is not None]
    overdue = [f for f in rows if f.resolved_at is None and now >= f.handling_due_before]
    handled_in_time = [f for f in resolved if f.resolved_at is not None and f.resolved_at < f.handling_due_before]
    forwarding_days = [(f.forwarded_at - f.received_at) / _DAY for f in rows]
    handling_days = [(f.resolved_at - f.forwarded_at) / _DAY for f in resolved if f.resolved_at is not None]
    return SlaFigures(
        objections=len(rows),
        open=len(rows) - len(resolved),
        overdue=len(overdue),
        forwarded_on_time=Share(
            part=sum(1 for f in known if f.forward_timeliness is ForwardTimeliness.ON_TIME), whole=len(known)
        ),
        forwarding_unknown=len(rows) - len(known),
        handled_on_time=Share(part=len(handled_in_time), whole=len(resolved) + len(overdue)),
        median_forwarding_days=statistics.median(forwarding_days) if forwarding_days else None,
        median_handling_days=statistics.median(handling_days) if handling_days else None,
    )
