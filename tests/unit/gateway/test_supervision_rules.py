"""Supervision rules over disclosure leaves: each rule fires at its threshold, not below, and names its leaves."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from stdnum.cn.uscc import calc_check_digit

from creditnode.consent.v1 import consent_service_pb2 as cpb
from services.gateway.clients.consent import CachedDecision
from services.gateway.domain.quota import QuotaLimits, Quotas
from services.gateway.domain.supervision import (
    Disclosure,
    Finding,
    Rule,
    StatusSpan,
    Thresholds,
    admitted_at,
    platforms_released_to,
    run_rules,
)
from services.gateway.usecases import Gateway
from services.kit.errors import PermissionDenied
from tests.unit.gateway.test_usecases import (
    FakeConsent,
    FakeConsentCache,
    FakeLog,
    FakeParticipants,
    FakeRegistry,
    FakeScoring,
    FakeSharingList,
    q,
)

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
BANK = "institutions/boc-xian"
XIAN = "platforms/xian"
ADMITTED = {XIAN: [StatusSpan(T0 - timedelta(days=30), True)]}
_index = itertools.count()


def leaf(at: datetime = T0, **payload: Any) -> Disclosure:
    base = {"type": "credit_report", "caller": XIAN, "platform": XIAN, "requester": BANK, "decision": "ALLOW"}
    return Disclosure(next(_index), at, {**base, **payload})


def unauthorized(enterprise: str, at: datetime = T0) -> Disclosure:
    return leaf(at, enterprise=enterprise, authorization="", withheld=["TAX_PAYMENT"], released=["REG_BASIC"])


def test_breadth_fires_at_the_threshold_of_distinct_enterprises_and_not_below() -> None:
    t = Thresholds(breadth_enterprises=3)
    below = [unauthorized("enterprises/a"), unauthorized("enterprises/a"), unauthorized("enterprises/b")]
    assert run_rules(below, ADMITTED, t) == []
    at = [*below, unauthorized("enterprises/c")]
    (finding,) = run_rules(at, ADMITTED, t)
    assert (finding.rule, finding.subject, finding.platform, finding.count) == (
        Rule.UNAUTHORIZED_BREADTH,
        BANK,
        XIAN,
        3,
    )
    # The evidence is the first leaf of each enterprise.
    assert finding.leaves == (at[0].index, at[2].index, at[3].index)
    # A report that released nothing at all counts the same, whether recorded as such or (before) as a reasonless DENY.
    for decision in ("NOTHING_RELEASED", "DENY"):
        nothing = leaf(enterprise="enterprises/d", decision=decision, authorization="", withheld=["TAX_PAYMENT"])
        assert run_rules([*below, nothing], ADMITTED, t)[0].count == 3
    # Authorized queries do not count, however many.
    authorized = [leaf(enterprise=f"enterprises/{i}", authorization="authorizations/x", withheld=[]) for i in range(9)]
    assert run_rules(authorized, ADMITTED, t) == []


def test_breadth_counts_reports_and_derived_products_refused_for_want_of_an_authorization() -> None:
    t = Thresholds(breadth_enterprises=3)

    def refused(kind: str, enterprise: str, reason: str = "ERROR_REASON_PERMISSION_DENIED") -> Disclosure:
        return leaf(type=kind, decision="DENY", reason=reason, enterprise=enterprise)

    probes = [
        refused("GetEvaluation", "enterprises/a"),
        refused("GetPortrait", "enterprises/b"),
        refused("credit_report", "enterprises/c"),
    ]
    (finding,) = run_rules(probes, ADMITTED, t)
    assert (finding.rule, finding.subject, finding.count) == (Rule.UNAUTHORIZED_BREADTH, BANK, 3)
    # Refusals for other reasons (a quota, a bad field) are not probing without an authorization.
    others = [refused("GetEvaluation", f"enterprises/{i}", "ERROR_REASON_RESOURCE_EXHAUSTED") for i in range(5)]
    assert run_rules(others, ADMITTED, t) == []


def _refused_by_the_gateway(
    method: str, scenario_model: str = "", *, authorized: bool, uses_left: bool
) -> list[Disclosure]:
    """The leaves the gateway records refusing institutions/boc (through platforms/xian) ``method`` about three
    enterprises: what supervision reads, as the use case wrote it."""
    gw = Gateway(
        participants=FakeParticipants(),  # type: ignore[arg-type]
        consent_cache=FakeConsentCache(),  # type: ignore[arg-type]
        consent=FakeConsent(),  # type: ignore[arg-type]
        registry=FakeRegistry(),  # type: ignore[arg-type]
        sharing_list=FakeSharingList(),  # type: ignore[arg-type]
        disclosure_log=FakeLog(),
        quotas=Quotas(QuotaLimits(), lambda: 0.0),
        scoring=FakeScoring(),  # type: ignore[arg-type]
    )
    if authorized:
        gw.consent_cache.decision = CachedDecision(  # type: ignore[attr-defined]
            True, cpb.DECISION_REASON_AUTHORIZED, "authorizations/a", frozenset({"TAX_PAYMENT"})
        )
    gw.consent.allow = uses_left  # type: ignore[attr-defined]
    for i in range(3):
        uscc = f"91610100MA6TG123{i}"
        query = q(enterprise=f"enterprises/{uscc}{calc_check_digit(uscc)}", institution="institutions/boc")
        with pytest.raises(PermissionDenied):
            gw.derived(method, query, "platforms/xian", scenario_model)
    return [Disclosure(i, T0, p) for i, p in enumerate(gw.disclosure_log.leaves)]  # type: ignore[attr-defined]


def test_breadth_counts_refusals_for_want_of_a_usable_authorization_not_for_another_institutions_model() -> None:
    t = Thresholds(breadth_enterprises=3)
    boc = {XIAN: [StatusSpan(T0 - timedelta(days=30), True)]}

    def breadth(leaves: list[Disclosure]) -> list[tuple[Rule, str, int]]:
        return [(f.rule, f.subject, f.count) for f in run_rules(leaves, boc, t)]

    probing = [(Rule.UNAUTHORIZED_BREADTH, "institutions/boc", 3)]
    # No authorization at all, under the institution's own model or for a basic evaluation: probing.
    own = "institutions/boc/scenarioModels/s"
    assert breadth(_refused_by_the_gateway("GetScenarioScore", own, authorized=False, uses_left=True)) == probing
    # An authorization used up holds no more than none: the institution asked about enterprises it may not see now.
    assert breadth(_refused_by_the_gateway("GetEvaluation", authorized=True, uses_left=False)) == probing
    # Scoring under another institution's model is refused from the model's name alone, before any authorization is
    # looked at: whatever the enterprises, it says nothing of asking about them without an authorization.
    theirs = "institutions/icbc/scenarioModels/s"
    refused = _refused_by_the_gateway("GetScenarioScore", theirs, authorized=True, uses_left=True)
    assert [d.payload["decision"] for d in refused] == ["DENY"] * 3
    assert breadth(refused) == []


def test_breadth_counts_per_day() -> None:
    t = Thresholds(breadth_enterprises=2)
    spread = [unauthorized("enterprises/a"), unauthorized("enterprises/b", T0 + timedelta(days=1))]
    assert run_rules(spread, ADMITTED, t) == []


def test_denial_burst_needs_the_denials_inside_one_window() -> None:
    t = Thresholds(burst_denials=4, burst_window=timedelta(minutes=5))
    spaced = [leaf(T0 + timedelta(minutes=2 * i), decision="DENY", reason="ERROR_REASON_X") for i in range(4)]
    assert run_rules(spaced, ADMITTED, t) == []  # 6 minutes from first to last
    burst = [leaf(T0 + timedelta(seconds=30 * i), decision="DENY", reason="ERROR_REASON_X") for i in range(6)]
    (finding,) = run_rules(burst, ADMITTED, t)
    assert (finding.rule, finding.subject, finding.count) == (Rule.DENIAL_BURST, XIAN, 6)
    assert finding.leaves == tuple(d.index for d in burst)


def test_reports_that_released_nothing_are_no_burst_of_denials() -> None:
    # Answered reports with nothing in them (every item withheld, or no records): recorded, but nothing was refused;
    # before their own decision they were a DENY naming no reason, and the log keeps those leaves.
    t = Thresholds(burst_denials=4, burst_window=timedelta(minutes=5))
    empty = [
        leaf(T0 + timedelta(seconds=i), decision=decision, authorization="authorizations/a", withheld=[], released=[])
        for i, decision in enumerate(["NOTHING_RELEASED"] * 3 + ["DENY"] * 3)
    ]
    assert run_rules(empty, ADMITTED, t) == []
    # Refusals among them still count, and only they.
    refusals = [leaf(T0 + timedelta(seconds=10 + i), decision="DENY", reason="ERROR_REASON_X") for i in range(4)]
    (finding,) = run_rules([*empty, *refusals], ADMITTED, t)
    assert (finding.rule, finding.count, finding.leaves) == (Rule.DENIAL_BURST, 4, tuple(d.index for d in refusals))


def test_denials_the_node_caused_are_no_burst_of_the_platform() -> None:
    # Consent (or the registry, the database, the log) was down: every request of the platform was refused UNAVAILABLE.
    t = Thresholds(burst_denials=4, burst_window=timedelta(minutes=5))
    outage = [
        leaf(T0 + timedelta(seconds=i), decision="DENY", reason=reason)
        for i, reason in enumerate(
            ["ERROR_REASON_DEPENDENCY_UNAVAILABLE"] * 4
            + ["ERROR_REASON_EVIDENCE_LOG_CLOSED", "ERROR_REASON_CONCURRENT_MODIFICATION"]
        )
    ]
    assert run_rules(outage, ADMITTED, t) == []
    # The platform's own refusals within the outage still count, and only they.
    own = [
        leaf(T0 + timedelta(seconds=10 + i), decision="DENY", reason="ERROR_REASON_PERMISSION_DENIED") for i in range(4)
    ]
    (finding,) = run_rules([*outage, *own], ADMITTED, t)
    assert (finding.rule, finding.count, finding.leaves) == (Rule.DENIAL_BURST, 4, tuple(d.index for d in own))


def test_purpose_pattern_flags_a_feed_not_a_check() -> None:
    t = Thresholds(purpose_daily={"PRE_LOAN": 3})
    checks = [leaf(enterprise="enterprises/a", purpose="PRE_LOAN", released=["TAX_PAYMENT"]) for _ in range(3)]
    assert run_rules(checks, ADMITTED, t) == []
    feed = [*checks, leaf(enterprise="enterprises/a", purpose="PRE_LOAN", released=["TAX_PAYMENT"])]
    (finding,) = run_rules(feed, ADMITTED, t)
    assert (finding.rule, finding.subject, finding.count) == (Rule.PURPOSE_PATTERN, BANK, 4)
    # Unlisted purposes use the default pattern.
    other = [leaf(enterprise="enterprises/a", purpose="OTHER", released=["X"]) for _ in range(4)]
    assert run_rules(other, ADMITTED, Thresholds(purpose_daily={}, purpose_daily_default=4)) == []


def test_release_after_suspension_is_flagged_and_release_before_is_not() -> None:
    history = {
        XIAN: [
            StatusSpan(T0 - timedelta(days=30), True),
            StatusSpan(T0, False),  # suspended at T0
            StatusSpan(T0 + timedelta(hours=2), True),  # readmitted
        ]
    }
    before = leaf(T0 - timedelta(seconds=1), released=["REG_BASIC"])
    during = leaf(T0 + timedelta(hours=1), released=["REG_BASIC"])
    denied_during = leaf(T0 + timedelta(hours=1), decision="DENY", released=[])
    after = leaf(T0 + timedelta(hours=3), released=["REG_BASIC"])
    (finding,) = run_rules([before, during, denied_during, after], history, Thresholds())
    assert (finding.rule, finding.platform, finding.leaves) == (Rule.RELEASE_AFTER_SUSPENSION, XIAN, (during.index,))
    # A platform the registry never admitted has no admitted span at all.
    assert not admitted_at([], T0)


def test_a_proxy_must_have_been_admitted_too() -> None:
    county = "platforms/county"
    qxr = "platforms/qinxinrong"
    proxied = leaf(platform=county, caller=qxr, released=["REG_BASIC"])
    assert platforms_released_to([proxied]) == {county, qxr}
    history = {county: [StatusSpan(T0 - timedelta(days=1), True)], qxr: [StatusSpan(T0 - timedelta(days=1), False)]}
    (finding,) = run_rules([proxied], history, Thresholds())
    assert finding.platform == qxr


def test_fingerprints_are_stable_per_rule_subject_and_day() -> None:
    t = Thresholds(breadth_enterprises=1)
    (a,) = run_rules([unauthorized("enterprises/a")], ADMITTED, t)
    (b,) = run_rules([unauthorized("enterprises/b", T0 + timedelta(hours=1))], ADMITTED, t)
    (c,) = run_rules([unauthorized("enterprises/b", T0 + timedelta(days=1))], ADMITTED, t)
    assert a.fingerprint == b.fingerprint != c.fingerprint


def test_days_are_asia_shanghai_days() -> None:
    # 07:30 and 08:30 in Xi'an are one working day, though midnight UTC falls between them.
    t = Thresholds(breadth_enterprises=2)
    morning = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    pair = [unauthorized("enterprises/a", morning), unauthorized("enterprises/b", morning + timedelta(hours=1))]
    (finding,) = run_rules(pair, ADMITTED, t)
    assert finding.day == "2026-12-01"
    # 23:30 and 00:30 in Xi'an are two days, though both fall on 30 November in UTC.
    evening = datetime(2026, 11, 30, 15, 30, tzinfo=UTC)
    split = [unauthorized("enterprises/a", evening), unauthorized("enterprises/b", evening + timedelta(hours=1))]
    assert run_rules(split, ADMITTED, t) == []


def test_a_release_recorded_over_several_leaves_counts_once() -> None:
    t = Thresholds(purpose_daily={}, purpose_daily_default=1)
    parts = [
        leaf(enterprise="enterprises/a", purpose="PRE_LOAN", released=["REG_BASIC"], part=i, parts=3) for i in (1, 2, 3)
    ]
    assert run_rules(parts, ADMITTED, t) == []
    again = leaf(enterprise="enterprises/a", purpose="PRE_LOAN", released=["REG_BASIC"])
    (finding,) = run_rules([*parts, again], ADMITTED, t)
    assert (finding.rule, finding.count) == (Rule.PURPOSE_PATTERN, 2)


def test_a_retried_request_is_one_query_of_the_purpose_pattern() -> None:
    # A retry under the same request id spends no second use at consent and is recorded again when answered again:
    # it is one query, not a feed. Releases naming no request id stay one each.
    t = Thresholds(purpose_daily={"PRE_LOAN": 2})

    def check(request_id: str) -> Disclosure:
        return leaf(enterprise="enterprises/a", purpose="PRE_LOAN", released=["TAX_PAYMENT"], request_id=request_id)

    retried = [check("req-1"), check("req-1"), check("req-1"), check("req-2")]
    assert run_rules(retried, ADMITTED, t) == []
    (finding,) = run_rules([*retried, check("req-3")], ADMITTED, t)
    assert (finding.rule, finding.count) == (Rule.PURPOSE_PATTERN, 3)
    assert finding.leaves == (retried[0].index, retried[3].index, finding.leaves[-1])
    unnamed = [check("") for _ in range(3)]
    assert run_rules(unnamed, ADMITTED, t)[0].count == 3
    # A derived product is recorded as a report too, under its own use: the same request id there is another query.
    evaluation = leaf(
        enterprise="enterprises/a",
        purpose="PRE_LOAN",
        released=["EVALUATION"],
        product="GetEvaluation",
        request_id="req-1",
    )
    assert run_rules([*retried, evaluation], ADMITTED, t)[0].count == 3


def test_a_denial_burst_is_the_platform_served_not_the_aggregator_relaying_it() -> None:
    # 秦信融 connects for the county platforms: refusals of a county's requests (after admission, or the county refused
    # admission while suspended) are that county's behaviour, and two counties' few refusals make no burst together.
    t = Thresholds(burst_denials=4, burst_window=timedelta(minutes=5))
    qxr = "platforms/qinxinrong"

    def refused(served: str, i: int, after_admission: bool = True) -> Disclosure:
        at = T0 + timedelta(seconds=i)
        if after_admission:
            return leaf(at, caller=qxr, platform=served, decision="DENY", reason="ERROR_REASON_PERMISSION_DENIED")
        return Disclosure(
            next(_index),
            at,
            {"type": "credit_report", "caller": qxr, "on_behalf_of": served, "decision": "DENY",
             "reason": "ERROR_REASON_PLATFORM_NOT_ADMITTED"},
        )  # fmt: skip

    two_counties = [refused("platforms/county-a", i) for i in range(2)] + [
        refused("platforms/county-b", 2 + i) for i in range(2)
    ]
    assert run_rules(two_counties, ADMITTED, t) == []
    suspended = [refused("platforms/county-a", 10 + i, after_admission=False) for i in range(2)]
    (finding,) = run_rules([*two_counties, *suspended], ADMITTED, t)
    assert (finding.rule, finding.platform, finding.subject, finding.count) == (
        Rule.DENIAL_BURST,
        "platforms/county-a",
        "platforms/county-a",
        4,
    )
    # The aggregator's own refusals (a platform it does not proxy, say) are still its own.
    own = [
        leaf(T0 + timedelta(seconds=i), caller=qxr, platform="", decision="DENY", reason="ERROR_REASON_NOT_A_PROXY")
        for i in range(4)
    ]
    assert run_rules(own, ADMITTED, t)[0].platform == qxr


def test_two_platforms_tripping_a_rule_for_one_subject_are_two_findings() -> None:
    # One institution seen through two platforms in a day (moved from one to the other, say): each platform's finding
    # is recorded against that platform, so one must neither stand for the other nor, stored first, suppress it.
    t = Thresholds(breadth_enterprises=2, purpose_daily={"PRE_LOAN": 1})
    county = "platforms/county"

    def probes(platform: str) -> list[Disclosure]:
        return [
            leaf(platform=platform, caller=platform, enterprise=f"enterprises/{e}", authorization="",
                 withheld=["TAX_PAYMENT"], released=["REG_BASIC"])
            for e in ("a", "b")
        ]  # fmt: skip

    def feed(platform: str) -> list[Disclosure]:
        return [
            leaf(platform=platform, caller=platform, enterprise="enterprises/a", purpose="PRE_LOAN",
                 released=["TAX_PAYMENT"])
            for _ in range(2)
        ]  # fmt: skip

    for rule, make in ((Rule.UNAUTHORIZED_BREADTH, probes), (Rule.PURPOSE_PATTERN, feed)):
        found = [f for f in run_rules([*make(XIAN), *make(county)], ADMITTED, t) if f.rule == rule]
        assert sorted((f.platform, f.subject, f.count) for f in found) == [(county, BANK, 2), (XIAN, BANK, 2)]
        assert len({f.fingerprint for f in found}) == 2


def test_every_rules_fingerprint_names_the_platform_held_to_it() -> None:
    # Whatever the rule: a finding against another platform is another finding (two rows, each reported to its own).
    for rule in Rule:
        mine, theirs = (Finding(rule, p, BANK, "2026-11-30", 1, "", (0,)) for p in (XIAN, "platforms/county"))
        assert mine.fingerprint != theirs.fingerprint


def test_risk_alerts_pushed_to_an_institution_are_no_queries_of_its_purpose_pattern() -> None:
    # Scoring raises the alerts and the gateway pushes them (recorded as releases for post-loan monitoring, and again
    # when a resumed subscription is sent one again): the institution asked for none of them, so they make no feed.
    t = Thresholds(purpose_daily={"POST_LOAN_MONITORING": 2})

    def alert(cursor: int) -> Disclosure:
        return leaf(enterprise="enterprises/a", purpose="POST_LOAN_MONITORING", product="RiskAlert",
                    released=["risk_alert"], alert_cursor=cursor)  # fmt: skip

    assert run_rules([alert(1), alert(1), alert(2), alert(3)], ADMITTED, t) == []
    # Its own queries for the purpose still count.
    asked = [
        leaf(enterprise="enterprises/a", purpose="POST_LOAN_MONITORING", released=["TAX_PAYMENT"], request_id=f"r{i}")
        for i in range(3)
    ]
    (finding,) = run_rules([alert(1), *asked], ADMITTED, t)
    assert (finding.rule, finding.subject, finding.count) == (Rule.PURPOSE_PATTERN, BANK, 3)


def test_an_evidence_package_exported_while_the_platform_was_not_admitted_is_flagged() -> None:
    # A package is a release of the enterprise's disclosures and authorizations (its history lists it) to the
    # platform of the arbiter that asked: it must not leave while that platform (or its proxy) was not admitted.
    history = {XIAN: [StatusSpan(T0 - timedelta(days=1), True), StatusSpan(T0, False)]}
    package = {"type": "evidence_package", "requester": "institutions/xian-arbitration", "enterprise": "enterprises/a"}
    before = leaf(T0 - timedelta(hours=1), **package)
    during = leaf(T0 + timedelta(hours=1), **package)
    refused = leaf(T0 + timedelta(hours=1), **{**package, "decision": "DENY", "reason": "ERROR_REASON_X"})
    assert platforms_released_to([before, during, refused]) == {XIAN}
    (finding,) = run_rules([before, during, refused], history, Thresholds())
    assert (finding.rule, finding.platform, finding.leaves) == (Rule.RELEASE_AFTER_SUSPENSION, XIAN, (during.index,))


def test_a_self_query_page_released_while_the_platform_was_not_admitted_is_flagged() -> None:
    # A later page of a self-query carries no records, only the enterprise's history (who was given what about it):
    # released all the same to the platform relaying it, which must have been admitted.
    history = {XIAN: [StatusSpan(T0 - timedelta(days=1), True), StatusSpan(T0, False)]}
    page = {"type": "self_query", "requester": "enterprises/a", "enterprise": "enterprises/a", "released": []}
    during = leaf(T0 + timedelta(hours=1), **page, history_after=7)
    (finding,) = run_rules([during], history, Thresholds())
    assert (finding.rule, finding.platform, finding.leaves) == (Rule.RELEASE_AFTER_SUSPENSION, XIAN, (during.index,))
