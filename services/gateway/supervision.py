"""Supervision use cases: run the rules over a period of the disclosure log, keep findings, prove them, report them."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from services.gateway.clients.supervision_registry import SupervisionRegistry
from services.gateway.domain.supervision import Disclosure, Rule, Thresholds, platforms_released_to, run_rules
from services.gateway.store.findings import SqlFindings, StoredFinding
from services.kit.errors import NotFound
from services.kit.evidence.entries import LeafKind
from services.kit.evidence.log import EvidenceLog
from services.kit.evidence.store import LeafFilter
from services.kit.validation import invalid
from services.kit.workdays import local_date, start_of_day

MAX_PERIOD = timedelta(days=31)
# The years a period may lie in: the read starts at a Xi'an midnight (in year 1, a UTC time of year 0, which no
# column holds) and runs a day and a burst window past the period (from late 9999, no date at all).
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
PAGE = 1000


def finding_id(name: str) -> int:
    raw = name.removeprefix("findings/")
    # ASCII digits only: str.isdigit() also takes full-width and other scripts' digits, which int() reads as ASCII.
    if not name.startswith("findings/") or not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise invalid("name", "must look like findings/{id}")
    return int(raw)


@dataclass
class Supervision:
    log: EvidenceLog
    findings: SqlFindings
    registry: SupervisionRegistry
    thresholds: Thresholds = field(default_factory=Thresholds)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def run(self, start: datetime, end: datetime) -> tuple[list[StoredFinding], int]:
        if end <= start:
            raise invalid("end_time", "must be after start_time")
        if end - start > MAX_PERIOD:
            raise invalid("end_time", "a period is at most 31 days")
        if start < EARLIEST:
            raise invalid("start_time", "is before 1900")
        if end > LATEST:
            raise invalid("end_time", "is after 2199")
        # The rules count Asia/Shanghai days, so they read whole days: a period cut at any other hour (the default
        # run is the last 24 hours) split a day's queries between two runs and neither reached the threshold. The read
        # runs one burst window past the last day, so a burst begun before its midnight is seen whole.
        first, last = local_date(start), local_date(end - timedelta(microseconds=1))
        days = {(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)}
        leaves: list[Disclosure] = []
        after: int | None = None
        where = LeafFilter(
            kind=LeafKind.DISCLOSURE,
            start=start_of_day(first),
            end=start_of_day(last + timedelta(days=1)) + self.thresholds.burst_window,
        )
        while True:
            page = self.log.list_leaves(where, after, PAGE)
            leaves += [Disclosure(x.index, x.created_at, json.loads(x.entry_json)["payload"]) for x in page]
            if len(page) < PAGE:
                break
            after = page[-1].index
        history = {p: self.registry.status_history(p) for p in sorted(platforms_released_to(leaves))}
        now = self.clock()
        # Only the period's days: the day after the last was read in part, and a finding kept is never recounted.
        found = [f for f in run_rules(leaves, history, self.thresholds) if f.day in days]
        return [self.findings.keep(f, now) for f in found], len(leaves)

    def get(self, name: str) -> tuple[StoredFinding, list[str]]:
        """The finding and a receipt of each of its leaves against one fresh signed tree head."""
        stored = self._get(name)
        head = self.log.signed_tree_head(fresh=True)
        receipts = []
        for index in stored.finding.leaves:
            receipt = self.log.inclusion(index, head.tree_size).receipt()
            if receipt is not None:
                receipts.append(receipt.to_json())
        return stored, receipts

    def _get(self, name: str) -> StoredFinding:
        stored = self.findings.get(finding_id(name))
        if stored is None:
            # Not echoed: an id the operator typed can have an ID number's shape.
            raise NotFound("ERROR_REASON_FINDING_NOT_FOUND", "no such finding", {"field": "name"})
        return stored

    def list(self, before: int | None, limit: int, platform: str, rule: Rule | None) -> list[StoredFinding]:
        return self.findings.page(before, limit, platform, rule)

    def report(self, name: str) -> StoredFinding:
        """Record the finding against its platform in the registry (idempotent there by reference), then mark it."""
        stored = self._get(name)
        f = stored.finding
        occurred = start_of_day(date.fromisoformat(f.day))
        self.registry.record_breach(f.platform, stored.name, f"{f.rule.value} by {f.subject}: {f.detail}", occurred)
        return self.findings.mark_reported(stored.id, self.clock())
