"""An authorization's look-back (data_since) bounds derived products too: an indicator, a portrait tag or a risk alert
resting on a non-public record whose event is before it (or whose event time is unknown) explains nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from creditnode.consent.v1 import consent_service_pb2 as cpb
from creditnode.scoring.v1 import scoring_service_pb2 as sc
from services.gateway.clients.consent import CachedDecision
from services.gateway.domain.quota import QuotaLimits, Quotas
from services.gateway.usecases import Gateway
from tests.unit.gateway.test_usecases import (
    E,
    FakeConsent,
    FakeConsentCache,
    FakeLog,
    FakeParticipants,
    FakeRegistry,
    FakeScoring,
    FakeSharingList,
    q,
)

SINCE = datetime(2026, 6, 1, tzinfo=UTC)
BEFORE, AFTER = SINCE - timedelta(days=1), SINCE + timedelta(days=1)


def _ref(item: str, at: datetime | None, n: int = 0) -> sc.RecordRef:
    out = sc.RecordRef(record=f"{E}/records/r-{item.lower()}-{n}", version=1, item_code=item)
    if at is not None:
        out.event_time.FromDatetime(at)
    return out


# Indicator (or tag) -> the records it rests on, and whether it explains itself under a look-back from SINCE.
CASES: dict[str, tuple[list[sc.RecordRef], bool]] = {
    "after": ([_ref("TAX_PAYMENT", AFTER)], True),
    "at_since": ([_ref("TAX_PAYMENT", SINCE)], True),  # data_since is the first instant covered
    "before": ([_ref("TAX_PAYMENT", BEFORE)], False),
    "unknown_time": ([_ref("TAX_PAYMENT", None)], False),  # an old stored reference: fail closed
    "one_of_two_before": ([_ref("TAX_PAYMENT", AFTER), _ref("TAX_PAYMENT", BEFORE, 1)], False),
    # Public data is released whatever the look-back (as in a credit report): it bounds only what needs consent.
    "public_before": ([_ref("REG_BASIC", BEFORE)], True),
    "public_unknown_time": ([_ref("REG_BASIC", None)], True),
}


class LookBackScoring(FakeScoring):
    """Scoring answering with one indicator, tag or alert per case."""

    def call(self, method: str, request: Any) -> Any:
        self.calls.append((method, request))
        if method == "GetPortrait":
            tags = [sc.Tag(code=code, evidence=refs) for code, (refs, _) in CASES.items()]
            return sc.GetPortraitResponse(portrait=sc.Portrait(enterprise=E, score=700, positive_tags=tags))
        parts = [
            sc.Contribution(indicator=code, value=1.5, bin="[1, 2)", points=60, evidence=refs)
            for code, (refs, _) in CASES.items()
        ]
        evaluation = sc.Evaluation(enterprise=E, score=700, grade="A", contributions=parts)
        if method == "GetScenarioScore":
            return sc.GetScenarioScoreResponse(evaluation=evaluation)
        return sc.GetEvaluationResponse(evaluation=evaluation)


@pytest.fixture
def gw() -> Gateway:
    gateway = Gateway(
        participants=FakeParticipants(),  # type: ignore[arg-type]
        consent_cache=FakeConsentCache(),  # type: ignore[arg-type]
        consent=FakeConsent(),  # type: ignore[arg-type]
        registry=FakeRegistry(),  # type: ignore[arg-type]
        sharing_list=FakeSharingList(),  # type: ignore[arg-type]
        disclosure_log=FakeLog(),
        quotas=Quotas(QuotaLimits(), lambda: 0.0),
    )
    gateway.scoring = LookBackScoring()  # type: ignore[assignment]
    return gateway


def _authorize(gw: Gateway, since: datetime | None, authorization: str = "authorizations/a") -> None:
    gw.consent_cache.decision = CachedDecision(  # type: ignore[attr-defined]
        True, cpb.DECISION_REASON_AUTHORIZED, authorization, frozenset({"TAX_PAYMENT"}), since
    )


@pytest.mark.parametrize("method", ["GetEvaluation", "GetScenarioScore"])
def test_an_indicator_resting_on_a_record_before_data_since_shows_only_its_points(gw: Gateway, method: str) -> None:
    _authorize(gw, SINCE)
    result, *_ = gw.derived(
        method, q(institution="institutions/boc"), "platforms/xian", "institutions/boc/scenarioModels/m"
    )
    shown = {
        c.indicator: (c.HasField("value"), c.bin, len(c.evidence), c.points) for c in result.evaluation.contributions
    }
    assert shown == {
        code: (True, "[1, 2)", len(refs), 60) if kept else (False, "withheld", 0, 60)
        for code, (refs, kept) in CASES.items()
    }
    assert (result.evaluation.score, result.evaluation.grade) == (700, "A")  # the derived product itself stays


def test_without_a_look_back_every_covered_indicator_explains_itself(gw: Gateway) -> None:
    _authorize(gw, None)
    result, *_ = gw.derived("GetEvaluation", q(institution="institutions/boc"), "platforms/xian")
    assert all(c.HasField("value") and c.evidence for c in result.evaluation.contributions)
    assert [c.indicator for c in result.evaluation.contributions] == list(CASES)


def test_a_portrait_drops_tags_resting_on_records_before_data_since(gw: Gateway) -> None:
    _authorize(gw, SINCE)
    result, *_ = gw.derived("GetPortrait", q(institution="institutions/boc"), "platforms/xian")
    assert [t.code for t in result.portrait.positive_tags] == [code for code, (_, kept) in CASES.items() if kept]
    _authorize(gw, None)
    result, *_ = gw.derived("GetPortrait", q(institution="institutions/boc"), "platforms/xian")
    assert [t.code for t in result.portrait.positive_tags] == list(CASES)


@pytest.mark.parametrize("since", [SINCE, None])
def test_an_alert_resting_on_a_record_before_data_since_is_withheld_like_an_uncovered_one(
    gw: Gateway, since: datetime | None
) -> None:
    alerts = [
        sc.Alert(cursor=i, institution="institutions/boc", enterprise=E, risk="NEW_ENFORCEMENT", evidence=refs)
        for i, (refs, _) in enumerate(CASES.values(), start=1)
    ]
    gw.scoring.alert_batches = [sc.WatchAlertsResponse(alerts=alerts, cursor=len(alerts))]  # type: ignore[union-attr]
    _authorize(gw, since, "authorizations/m")
    batches = list(gw.risk_alerts("institutions/boc", 0, "platforms/xian", ""))
    passed = [i for i, (_, kept) in enumerate(CASES.values(), start=1) if kept or since is None]
    assert [([a.cursor for a in b.alerts], b.cursor) for b in batches] == [(passed, len(alerts))]
    # A withheld alert spends no use and leaves no disclosure leaf; the cursor moves past it.
    assert [request_id for _, _, request_id in gw.consent.uses] == [f"alert-{i}" for i in passed]  # type: ignore[attr-defined]
    assert [leaf["alert_cursor"] for leaf in gw.disclosure_log.leaves] == passed  # type: ignore[attr-defined]


def test_one_request_id_names_a_different_use_for_each_product_and_scenario_model() -> None:
    from services.gateway.usecases import product_use_id
    from services.kit.validation import request_id

    ids = {
        product_use_id("GetEvaluation", "", "r1"),
        product_use_id("GetPortrait", "", "r1"),
        product_use_id("GetScenarioScore", "institutions/a/scenarioModels/m1", "r1"),
        product_use_id("GetScenarioScore", "institutions/a/scenarioModels/m2", "r1"),
        "r1",  # a credit report's own id
    }
    assert len(ids) == 5
    assert product_use_id("GetEvaluation", "", "r1") == product_use_id("GetEvaluation", "", "r1")  # a retry
    # No id: no retry of the request to recognise, but an id of its own, so the channel's retry of the batch is one.
    one_off = {product_use_id("GetEvaluation", "", "") for _ in range(2)}
    assert len(one_off) == 2
    assert all(i.startswith("gateway-") and request_id(i) == i for i in one_off)
    assert all(len(i) <= 64 for i in ids)
