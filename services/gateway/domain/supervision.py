"""Supervision rules over the disclosure log: pure functions from leaves (and platform status history) to findings.

Rules (thresholds in ``Thresholds``, set by the operator):

- ``UNAUTHORIZED_BREADTH``: an institution asked about many distinct enterprises without an authorization;
- ``DENIAL_BURST``: many denials to one platform (the one served, not 秦信融 relaying it) within a short window;
- ``PURPOSE_PATTERN``: one requester asked about one enterprise for one purpose more often in a day than the
  purpose's pattern allows (a pre-loan check is a few queries, not a feed; risk alerts pushed to it are none);
- ``RELEASE_AFTER_SUSPENSION``: anything released to a platform while it was not admitted (must never happen).

A finding names the leaves it rests on; its fingerprint (rule, platform, subject, day) makes re-running a period
idempotent.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from services.kit.workdays import local_date

MAX_EVIDENCE = 50
# A leaf's decision: ALLOW (something released), DENY (a refusal: every one names its reason), or NOTHING_RELEASED
# (a credit report answered with nothing in it: every item withheld, or no records of them; no refusal).
NOTHING_RELEASED = "NOTHING_RELEASED"
# Refusals that were the node's doing (consent, the registry, the database or the log down; a race between replicas):
# a platform whose requests met an outage made no burst of denials, and a finding would be recorded against it.
_NODE_SIDE_REASONS = frozenset(
    {"ERROR_REASON_DEPENDENCY_UNAVAILABLE", "ERROR_REASON_EVIDENCE_LOG_CLOSED", "ERROR_REASON_CONCURRENT_MODIFICATION"}
)


class Rule(StrEnum):
    UNAUTHORIZED_BREADTH = "UNAUTHORIZED_BREADTH"
    DENIAL_BURST = "DENIAL_BURST"
    PURPOSE_PATTERN = "PURPOSE_PATTERN"
    RELEASE_AFTER_SUSPENSION = "RELEASE_AFTER_SUSPENSION"


@dataclass(frozen=True)
class Thresholds:
    breadth_enterprises: int = 20  # distinct enterprises queried without authorization, per institution per day
    burst_denials: int = 50  # denials to one platform ...
    burst_window: timedelta = timedelta(minutes=5)  # ... within this window
    purpose_daily: Mapping[str, int] = field(
        default_factory=lambda: {"PRE_LOAN": 5, "LOAN_REVIEW": 5, "POST_LOAN_MONITORING": 2}
    )
    purpose_daily_default: int = 10


@dataclass(frozen=True)
class Disclosure:
    """What the rules read of one DISCLOSURE leaf."""

    index: int
    at: datetime
    payload: Mapping[str, Any]

    @property
    def denied(self) -> bool:
        """A refused request. Before NOTHING_RELEASED, a credit report answered with nothing in it was recorded as a
        DENY naming no reason; the log keeps such leaves for ever, and they were no refusal either."""
        return self.payload.get("decision") == "DENY" and bool(self.get("reason"))

    @property
    def platform_denied(self) -> bool:
        """A denial the caller brought on itself: not one the node answered for want of a dependency of its own."""
        return self.denied and self.get("reason") not in _NODE_SIDE_REASONS

    @property
    def released(self) -> bool:
        """Something left: records or a derived product (named in ``released``), a self-query's page (the enterprise's
        history, with no records past the first page) or an evidence package (the enterprise's disclosures and
        authorizations, handed to the arbiter's platform)."""
        if self.payload.get("decision") != "ALLOW":
            return False
        return bool(self.payload.get("released")) or self.payload.get("type") in ("self_query", "evidence_package")

    def get(self, key: str) -> str:
        value = self.payload.get(key)
        return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class StatusSpan:
    """A platform's status from ``start`` until the next span (the registry's status history)."""

    start: datetime
    admitted: bool


@dataclass(frozen=True)
class Finding:
    rule: Rule
    platform: str  # the platform the finding is held against (a breach is recorded against it)
    subject: str  # the platform or institution that behaved so
    day: str  # the Asia/Shanghai day the behaviour happened, YYYY-MM-DD
    count: int
    detail: str
    leaves: tuple[int, ...]

    @property
    def fingerprint(self) -> str:
        # The platform too: a finding is recorded against its platform, and one subject seen through two platforms in
        # a day (an institution moved between them) is a finding against each, not one of them standing for both.
        # gateway_0006 moved the stored findings to this; keep the two in step.
        return hashlib.sha256(f"{self.rule}|{self.platform}|{self.subject}|{self.day}".encode()).hexdigest()[:32]


def _day(at: datetime) -> str:
    # Daily thresholds count the platforms' own days: a UTC day cut Xi'an's morning in two at 08:00.
    return local_date(at).isoformat()


_ASKED_WITHOUT_AUTHORIZATION = {"credit_report", "GetEvaluation", "GetPortrait", "GetScenarioScore"}


def _unauthorized(d: Disclosure) -> bool:
    """A credit report that withheld items while the requester held no authorization for them, or a report or derived
    product refused to an admitted requester (PERMISSION_DENIED after admission: no authorization covered it, or the
    one that did allows no further use, which leaves the requester with no usable authorization for the enterprise
    just the same). A scenario score asked under another institution's model is refused SCENARIO_MODEL_NOT_OWNED and
    not counted: it says nothing of the enterprise (leaves recorded before that reason existed say PERMISSION_DENIED,
    and are counted)."""
    if d.get("type") not in _ASKED_WITHOUT_AUTHORIZATION:
        return False
    if d.get("reason"):  # a refusal (a report's items are otherwise withheld one by one, in a leaf of its own)
        return d.get("reason") == "ERROR_REASON_PERMISSION_DENIED"
    return d.get("type") == "credit_report" and not d.get("authorization") and bool(d.payload.get("withheld"))


def unauthorized_breadth(leaves: Sequence[Disclosure], t: Thresholds) -> list[Finding]:
    groups: dict[tuple[str, str, str], dict[str, int]] = defaultdict(dict)
    for d in leaves:
        requester = d.get("requester")
        if requester.startswith("institutions/") and _unauthorized(d):
            groups[(requester, d.get("platform") or d.get("caller"), _day(d.at))].setdefault(
                d.get("enterprise"), d.index
            )
    return [
        Finding(
            Rule.UNAUTHORIZED_BREADTH,
            platform,
            requester,
            day,
            len(firsts),
            f"{len(firsts)} distinct enterprises queried without authorization in one day "
            f"(threshold {t.breadth_enterprises})",
            tuple(sorted(firsts.values()))[:MAX_EVIDENCE],
        )
        for (requester, platform, day), firsts in sorted(groups.items())
        if len(firsts) >= t.breadth_enterprises
    ]


def _served(d: Disclosure) -> str:
    """The platform a refused request came from: the one 秦信融 acted for (admitted, or refused admission itself) rather
    than the aggregator relaying it, which would carry every county's refusals as one burst of its own."""
    return d.get("platform") or d.get("on_behalf_of") or d.get("caller")


def denial_bursts(leaves: Sequence[Disclosure], t: Thresholds) -> list[Finding]:
    """One finding per platform and day: its largest window of denials, when that reaches the threshold."""
    by_platform: dict[str, list[Disclosure]] = defaultdict(list)
    for d in leaves:
        served = _served(d)
        if d.platform_denied and served.startswith("platforms/"):
            by_platform[served].append(d)
    out: list[Finding] = []
    for platform, denials in sorted(by_platform.items()):
        denials.sort(key=lambda d: (d.at, d.index))
        largest: dict[str, list[Disclosure]] = {}
        start = 0
        for end, d in enumerate(denials):
            while d.at - denials[start].at > t.burst_window:
                start += 1
            window = denials[start : end + 1]
            day = _day(window[0].at)
            if len(window) > len(largest.get(day, ())):
                largest[day] = window
        out += [
            Finding(
                Rule.DENIAL_BURST,
                platform,
                platform,
                day,
                len(window),
                f"{len(window)} denials within {int(t.burst_window.total_seconds())} s (threshold {t.burst_denials})",
                tuple(x.index for x in window)[:MAX_EVIDENCE],
            )
            for day, window in sorted(largest.items())
            if len(window) >= t.burst_denials
        ]
    return out


def purpose_pattern(leaves: Sequence[Disclosure], t: Thresholds) -> list[Finding]:
    groups: dict[tuple[str, str, str, str, str], dict[str, int]] = defaultdict(dict)
    for d in leaves:
        # A risk alert is recorded as a release for post-loan monitoring, but scoring raised it and the gateway pushed
        # it (again to a resumed subscription): the requester asked for none, so its alerts are no query of its own.
        pushed = d.get("product") == "RiskAlert"
        if d.get("type") == "credit_report" and d.released and d.get("purpose") and not pushed:
            key = (d.get("requester"), d.get("platform"), d.get("enterprise"), d.get("purpose"), _day(d.at))
            # A retry under the same request id is one query (consent spent one use on it), however often it was
            # answered and recorded: its first leaf stands for it. A derived product (recorded as a report naming its
            # product) spends a use of its own under the same id, so it is another query; a release naming no request
            # id is one of its own.
            request = f"{d.get('product')}|{d.get('request_id')}" if d.get("request_id") else f"#{d.index}"
            groups[key].setdefault(request, d.index)
    out: list[Finding] = []
    for (requester, platform, _enterprise, purpose, day), firsts in sorted(groups.items()):
        indices = sorted(firsts.values())
        limit = t.purpose_daily.get(purpose, t.purpose_daily_default)
        if len(indices) > limit:
            out.append(
                Finding(
                    Rule.PURPOSE_PATTERN,
                    platform,
                    requester,
                    day,
                    len(indices),
                    f"{len(indices)} releases about one enterprise for {purpose} in one day (pattern: at most {limit})",
                    tuple(indices)[:MAX_EVIDENCE],
                )
            )
    # One finding per requester, platform and day, the worst enterprise first: the subject is the requester's
    # behaviour, held against the platform it came through (through two, one finding against each).
    worst: dict[tuple[str, str, str], Finding] = {}
    for f in out:
        held = (f.subject, f.platform, f.day)
        if held not in worst or f.count > worst[held].count:
            worst[held] = f
    return sorted(worst.values(), key=lambda f: (f.subject, f.platform, f.day))


def admitted_at(spans: Sequence[StatusSpan], at: datetime) -> bool:
    """Whether the platform was admitted at ``at``; before its first recorded status it was not."""
    state = False
    for span in spans:
        if span.start > at:
            break
        state = span.admitted
    return state


def _platforms(d: Disclosure) -> set[str]:
    """The platform served and the one connected (秦信融 for a proxied platform): both must have been admitted."""
    return {p for p in (d.get("platform"), d.get("caller")) if p.startswith("platforms/")}


def release_after_suspension(
    leaves: Sequence[Disclosure], history: Mapping[str, Sequence[StatusSpan]]
) -> list[Finding]:
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for d in leaves:
        if not d.released:
            continue
        for platform in sorted(_platforms(d)):
            if not admitted_at(history.get(platform, ()), d.at):
                groups[(platform, _day(d.at))].append(d.index)
    return [
        Finding(
            Rule.RELEASE_AFTER_SUSPENSION,
            platform,
            platform,
            day,
            len(indices),
            f"{len(indices)} releases while the platform was not admitted",
            tuple(indices)[:MAX_EVIDENCE],
        )
        for (platform, day), indices in sorted(groups.items())
    ]


def platforms_released_to(leaves: Iterable[Disclosure]) -> set[str]:
    return {p for d in leaves if d.released for p in _platforms(d)}


def run_rules(
    leaves: Sequence[Disclosure], history: Mapping[str, Sequence[StatusSpan]], t: Thresholds
) -> list[Finding]:
    """Every rule over the leaves of one period; ``history`` covers at least ``platforms_released_to(leaves)``.

    A release recorded over several leaves (a long history: "part" i of "parts") is one release: its first leaf."""
    leaves = [d for d in leaves if d.payload.get("part", 1) == 1]
    return [
        *release_after_suspension(leaves, history),
        *unauthorized_breadth(leaves, t),
        *denial_bursts(leaves, t),
        *purpose_pattern(leaves, t),
    ]
