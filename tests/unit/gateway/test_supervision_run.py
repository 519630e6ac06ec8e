"""Supervision.run over a fake log: the day-based rules see whole Asia/Shanghai days, whatever hour the period ends."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from creditnode.gateway.v1 import supervision_service_pb2 as sup_pb
from services.gateway.api.supervision import SupervisionServicer
from services.gateway.domain.supervision import Finding, Rule, StatusSpan, Thresholds
from services.gateway.store.findings import StoredFinding
from services.gateway.supervision import Supervision
from services.kit.errors import InvalidArgument, NotFound
from services.kit.evidence.entries import LeafKind
from services.kit.evidence.store import LeafFilter, StoredLeaf

XIAN = "platforms/xian"
BANK = "institutions/boc-xian"
NOW = datetime(2026, 12, 2, 4, 0, tzinfo=UTC)  # 12:00 on 2 December in Xi'an


@dataclass
class FakeLog:
    leaves: list[StoredLeaf] = field(default_factory=list)
    _index: Any = field(default_factory=itertools.count)

    def add(self, at: datetime, **payload: Any) -> None:
        entry = json.dumps({"payload": payload})
        self.leaves.append(StoredLeaf(next(self._index), LeafKind.DISCLOSURE, at, entry, b""))

    def list_leaves(self, where: LeafFilter, after: int | None, limit: int) -> list[StoredLeaf]:
        kept = [
            x
            for x in self.leaves
            if (after is None or x.index > after)
            and (where.start is None or x.created_at >= where.start)
            and (where.end is None or x.created_at < where.end)
        ]
        return kept[:limit]


class FakeFindings:
    def __init__(self) -> None:
        self.kept: dict[str, StoredFinding] = {}

    def keep(self, finding: Finding, now: datetime) -> StoredFinding:
        return self.kept.setdefault(finding.fingerprint, StoredFinding(len(self.kept) + 1, finding, now, None))


class FakeRegistry:
    def status_history(self, platform: str) -> list[StatusSpan]:
        return [StatusSpan(NOW - timedelta(days=300), True)]


def unauthorized(log: FakeLog, at: datetime, enterprise: str) -> None:
    log.add(
        at,
        type="credit_report",
        decision="ALLOW",
        caller=XIAN,
        platform=XIAN,
        requester=BANK,
        enterprise=enterprise,
        authorization="",
        withheld=["TAX_PAYMENT"],
        released=["REG_BASIC"],
    )


def supervision(log: FakeLog, t: Thresholds) -> Supervision:
    return Supervision(log, FakeFindings(), FakeRegistry(), t, clock=lambda: NOW)  # type: ignore[arg-type]


def test_a_day_cut_by_the_period_is_read_whole() -> None:
    # 1 December in Xi'an: three enterprises in the morning, three in the afternoon (threshold 5).
    log = FakeLog()
    for i in range(3):
        unauthorized(log, datetime(2026, 12, 1, 1, i, tzinfo=UTC), f"enterprises/am{i}")  # 09:0i
        unauthorized(log, datetime(2026, 12, 1, 7, i, tzinfo=UTC), f"enterprises/pm{i}")  # 15:0i
    sv = supervision(log, Thresholds(breadth_enterprises=5))
    # Runs of the last 24 hours at noon each day: each sees half of 1 December.
    for end in (NOW - timedelta(days=1), NOW):
        found, _ = sv.run(end - timedelta(days=1), end)
        (stored,) = found
        assert (stored.finding.rule, stored.finding.day, stored.finding.count) == (
            Rule.UNAUTHORIZED_BREADTH,
            "2026-12-01",
            6,
        )


def test_a_burst_across_the_last_midnight_is_seen_whole_and_the_next_day_is_not_judged() -> None:
    log = FakeLog()
    midnight = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)  # 00:00 on 2 December in Xi'an
    for i in range(6):
        log.add(
            midnight + timedelta(seconds=30 * i - 90), type="credit_report", decision="DENY", caller=XIAN, reason="R"
        )
    for i in range(3):  # the next day's first minutes: not this period's
        unauthorized(log, midnight + timedelta(seconds=10 + i), f"enterprises/{i}")
    sv = supervision(log, Thresholds(burst_denials=5, breadth_enterprises=3))
    found, _ = sv.run(midnight - timedelta(hours=10), midnight)
    assert [(s.finding.rule, s.finding.day, s.finding.count) for s in found] == [(Rule.DENIAL_BURST, "2026-12-01", 6)]


class _NoFindings(FakeFindings):
    def get(self, finding_id: int) -> StoredFinding | None:
        return None


def test_a_finding_name_is_ascii_digits_and_a_missing_one_is_not_echoed() -> None:
    supervision = Supervision(FakeLog(), _NoFindings(), FakeRegistry(), clock=lambda: NOW)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument):
        supervision.get("findings/１２３")  # full-width digits: not a finding id, not an alias of findings/123
    with pytest.raises(NotFound) as err:
        supervision.get("findings/610113199001011234")  # an ID number's shape: the operator's typing, not echoed
    assert "610113199001011234" not in f"{err.value.message} {err.value.metadata}"


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        # the read runs a day and a burst window past the period: from the last day of year 9999 that is no date
        (datetime(9999, 12, 30, tzinfo=UTC), datetime(9999, 12, 31, 23, tzinfo=UTC), "end_time"),
        # 00:00 in Xi'an on 1 January of year 1 is a time of year 0 in UTC, which no database column holds
        (datetime(1, 1, 1, tzinfo=UTC), datetime(1, 1, 2, tzinfo=UTC), "start_time"),
    ],
)
def test_a_period_outside_the_years_a_log_can_hold_is_invalid(start: datetime, end: datetime, field: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        supervision(FakeLog(), Thresholds()).run(start, end)
    assert err.value.metadata["field"] == field


def test_a_findings_listing_by_a_rule_the_proto_does_not_define_is_invalid() -> None:
    servicer = SupervisionServicer(supervision(FakeLog(), Thresholds()))
    with pytest.raises(InvalidArgument) as err:  # proto3 keeps the number: FindingRule.Name would raise, as INTERNAL
        servicer.ListFindings(sup_pb.ListFindingsRequest(rule=999), None)  # type: ignore[arg-type]
    assert err.value.metadata["field"] == "rule"
