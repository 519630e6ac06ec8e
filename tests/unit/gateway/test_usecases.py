"""The credit-report use case with fakes: checks before any read, fail closed, uses recorded, every outcome logged."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from stdnum.cn.uscc import calc_check_digit
from structlog.testing import capture_logs

from creditnode.consent.v1 import consent_service_pb2 as cpb
from creditnode.registry.v1 import records_pb2 as rec
from creditnode.registry.v1 import sharing_list_pb2 as sl
from services.gateway.api.identity import RevokedCertificate, revoked_certificate_of
from services.gateway.clients.consent import CachedDecision, ConsentUnavailable
from services.gateway.domain.identity import InstitutionView, PlatformView
from services.gateway.domain.policy import Coverage, Openness
from services.gateway.domain.quota import QuotaLimits, Quotas
from services.gateway.domain.selfquery import SignedSelfQuery
from services.gateway.domain.supervision import Disclosure
from services.gateway.usecases import Gateway, ReportQuery, _withhold_uncovered
from services.kit.errors import DomainError, InvalidArgument, NotFound, PermissionDenied, Unavailable
from services.kit.evidence.entries import check_payload

E = "enterprises/91610100MA6TG1234E"
OPEN = {
    "REG_BASIC": (Openness.PUBLIC, 1),
    "TAX_PAYMENT": (Openness.NON_PUBLIC, 2),
    "TAX_INVOICE": (Openness.OPERATING_OPT_IN, 2),
    "TAX_FINANCIAL_STATEMENT": (Openness.COMMERCIAL_SECRET, 2),
}
WIRE = {Openness.PUBLIC: 1, Openness.NON_PUBLIC: 2, Openness.OPERATING_OPT_IN: 3, Openness.COMMERCIAL_SECRET: 4}


class FakeParticipants:
    def __init__(self) -> None:
        self.is_live = True
        self.platforms = {"platforms/xian": PlatformView("platforms/xian", True, "", False, 1)}
        self.institutions = {"institutions/boc": InstitutionView("institutions/boc", "platforms/xian", True)}

    def live(self) -> bool:
        return self.is_live

    def admitting(
        self,
    ) -> tuple[Callable[[str], PlatformView | None], Callable[[str], InstitutionView | None]] | None:
        return (self.platform, self.institution) if self.is_live else None

    def platform(self, name: str) -> PlatformView | None:
        return self.platforms.get(name)

    def institution(self, name: str) -> InstitutionView | None:
        return self.institutions.get(name)


class FakeConsentCache:
    def __init__(self) -> None:
        self.decision: CachedDecision | None = CachedDecision(False, cpb.DECISION_REASON_NO_AUTHORIZATION)
        self.asked: list[tuple[str, str, str, frozenset[str]]] = []

    def decide(self, requester: str, enterprise: str, purpose: str, items: frozenset[str]) -> CachedDecision:
        self.asked.append((requester, enterprise, purpose, items))
        if self.decision is None:
            raise ConsentUnavailable
        return self.decision


class FakeConsent:
    def __init__(self) -> None:
        self.uses: list[tuple[str, list[str], str]] = []
        self.allow = True

    def consume(
        self, requester: str, enterprise: str, purpose: str, items: list[str], authorization: str, request_id: str
    ) -> Any:
        self.uses.append((authorization, items, request_id))
        if self.allow:
            return cpb.CheckAuthorizationResponse(decision=cpb.DECISION_ALLOW)
        return cpb.CheckAuthorizationResponse(decision=cpb.DECISION_DENY, reason=cpb.DECISION_REASON_USE_LIMIT_REACHED)


class FakeRegistry:
    """``held``: records come from the record cache's memory; otherwise through a fetch."""

    def __init__(self, held: bool = False) -> None:
        self.reads: list[list[str]] = []
        self.held = held

    def held_records(self, uscc: str, item_codes: list[str]) -> list[rec.CreditRecord] | None:
        return self.records(uscc, item_codes, raw=False) if self.held else None

    def records(self, uscc: str, item_codes: list[str], *, raw: bool) -> list[rec.CreditRecord]:
        self.reads.append(item_codes)
        return [
            rec.CreditRecord(name=f"{E}/records/{c.lower()}", item_code=c, openness=WIRE[OPEN[c][0]])  # type: ignore[arg-type]
            for c in item_codes
        ]


class FakeSharingList:
    def items(self) -> dict[str, tuple[Openness | None, int]]:
        return dict(OPEN)


class FakeLog:
    origin = "test"

    def __init__(self) -> None:
        self.leaves: list[dict[str, Any]] = []
        self.writer_up = True
        self.reads: list[int] = []

    def record(self, payload: dict[str, Any]) -> int:
        if not self.writer_up:
            raise Unavailable("ERROR_REASON_DEPENDENCY_UNAVAILABLE", "the evidence writer is restarting")
        check_payload(payload)  # what the real log refuses (size, personal numbers, non-JSON values)
        self.leaves.append(payload)
        return len(self.leaves) - 1

    def accepting(self) -> bool:
        return self.writer_up

    def disclosures_of(
        self, enterprise: str, after: int | None, limit: int
    ) -> list[tuple[int, datetime, dict[str, Any]]]:
        """As the store: leaves about the enterprise after ``after``, at most ``limit`` (limits kept in ``reads``)."""
        self.reads.append(limit)
        start = -1 if after is None else after
        about = [
            (i, datetime(2026, 11, 30, tzinfo=UTC), p)
            for i, p in enumerate(self.leaves)
            if i > start and p.get("enterprise") == enterprise
        ]
        return about[:limit]


@pytest.fixture(params=["fetched", "held"])
def gw(request: pytest.FixtureRequest) -> Gateway:
    return Gateway(
        participants=FakeParticipants(),  # type: ignore[arg-type]
        consent_cache=FakeConsentCache(),  # type: ignore[arg-type]
        consent=FakeConsent(),  # type: ignore[arg-type]
        registry=FakeRegistry(held=request.param == "held"),  # type: ignore[arg-type]
        sharing_list=FakeSharingList(),  # type: ignore[arg-type]
        disclosure_log=FakeLog(),
        quotas=Quotas(QuotaLimits(), lambda: 0.0),
    )


def q(**kw: Any) -> ReportQuery:
    base: dict[str, Any] = {"enterprise": E, "purpose": "PRE_LOAN", "item_codes": tuple(OPEN), "categories": ()}
    return ReportQuery(**{**base, **kw})


def test_unauthorized_platform_reads_nothing_and_the_denial_is_logged(gw: Gateway) -> None:
    with pytest.raises(PermissionDenied) as first:
        gw.credit_report(q(), "platforms/ghost")
    with pytest.raises(PermissionDenied) as second:
        gw.credit_report(q(enterprise="enterprises/does-not-exist"), "platforms/ghost")  # permission before existence
    # Each refusal carries its receipt, as a release does.
    assert [e.value.metadata["receipt_leaf_index"] for e in (first, second)] == ["0", "1"]
    assert gw.registry.reads == []  # type: ignore[attr-defined]
    assert [leaf["decision"] for leaf in gw.disclosure_log.leaves] == ["DENY", "DENY"]  # type: ignore[attr-defined]


class _RegistrySendingMore(FakeRegistry):
    """Answers with a record of an item not asked for and one of another enterprise besides (a bug there)."""

    def records(self, uscc: str, item_codes: list[str], *, raw: bool) -> list[rec.CreditRecord]:
        other = "enterprises/91610100MA6TG5678X"
        return [
            *super().records(uscc, item_codes, raw=raw),
            rec.CreditRecord(name=f"{E}/records/extra", item_code="REG_OTHER", openness=WIRE[Openness.PUBLIC]),  # type: ignore[arg-type]
            rec.CreditRecord(name=f"{other}/records/reg", item_code="REG_BASIC", openness=WIRE[Openness.PUBLIC]),  # type: ignore[arg-type]
        ]


def test_a_report_releases_only_records_of_the_items_decided_on_and_of_its_enterprise(gw: Gateway) -> None:
    gw.registry = _RegistrySendingMore(held=gw.registry.held)  # type: ignore[assignment,attr-defined]
    report = gw.credit_report(q(item_codes=("REG_BASIC",)), "platforms/xian")
    assert [r.name for r in report.records] == [f"{E}/records/reg_basic"]
    assert gw.disclosure_log.leaves[-1]["released"] == ["REG_BASIC"]  # type: ignore[attr-defined]


def test_participants_not_live_fails_closed(gw: Gateway) -> None:
    gw.participants.is_live = False  # type: ignore[attr-defined]
    with pytest.raises(Unavailable) as err:
        gw.credit_report(q(), "platforms/xian")
    assert err.value.reason == "ERROR_REASON_DEPENDENCY_UNAVAILABLE"
    assert gw.registry.reads == []  # type: ignore[attr-defined]


def test_consent_not_live_releases_nothing_needing_authorization(gw: Gateway) -> None:
    gw.consent_cache.decision = None  # type: ignore[attr-defined]
    with pytest.raises(Unavailable):
        gw.credit_report(q(), "platforms/xian")
    assert gw.registry.reads == []  # type: ignore[attr-defined]
    # Public items alone need no authorization and still flow.
    assert [r.item_code for r in gw.credit_report(q(item_codes=("REG_BASIC",)), "platforms/xian").records] == [
        "REG_BASIC"
    ]


def test_authorized_platform_gets_covered_items_after_the_use_is_recorded(gw: Gateway) -> None:
    gw.consent_cache.decision = CachedDecision(  # type: ignore[attr-defined]
        True, cpb.DECISION_REASON_AUTHORIZED, "authorizations/a", frozenset({"TAX_PAYMENT"})
    )
    report = gw.credit_report(q(request_id="r1"), "platforms/xian")
    assert sorted(r.item_code for r in report.records) == ["REG_BASIC", "TAX_PAYMENT"]
    assert gw.consent.uses == [("authorizations/a", ["TAX_PAYMENT"], "r1")]  # type: ignore[attr-defined]
    assert gw.registry.reads == [["REG_BASIC", "TAX_PAYMENT"]]  # type: ignore[attr-defined]
    leaf = gw.disclosure_log.leaves[-1]  # type: ignore[attr-defined]
    assert leaf["released"] == ["REG_BASIC", "TAX_PAYMENT"]
    assert leaf["authorization"] == "authorizations/a"
    assert report.leaf_index == 0
    assert len(report.payload_sha256) == 64
    assert not report.allowed  # the opt-in item asked for was not covered


def test_nothing_leaves_and_no_use_is_spent_while_the_disclosure_log_cannot_record(gw: Gateway) -> None:
    gw.consent_cache.decision = CachedDecision(  # type: ignore[attr-defined]
        True, cpb.DECISION_REASON_AUTHORIZED, "authorizations/a", frozenset({"TAX_PAYMENT"})
    )
    gw.disclosure_log.writer_up = False  # type: ignore[attr-defined]
    gw.scoring = FakeScoring()  # type: ignore[assignment]
    for call in (
        lambda: gw.credit_report(q(request_id="r1"), "platforms/xian"),
        lambda: gw.derived("GetEvaluation", q(institution="institutions/boc"), "platforms/xian"),
    ):
        with pytest.raises(Unavailable) as err:
            call()
        assert err.value.metadata == {"dependency": "disclosure log"}
    assert gw.consent.uses == []  # type: ignore[attr-defined]


def test_a_release_whose_leaf_fails_to_commit_is_not_answered(gw: Gateway) -> None:
    # The writer died after the use was spent: the records are not returned without their leaf.
    gw.consent_cache.decision = CachedDecision(  # type: ignore[attr-defined]
        True, cpb.DECISION_REASON_AUTHORIZED, "authorizations/a", frozenset({"TAX_PAYMENT"})
    )
    log: FakeLog = gw.disclosure_log  # type: ignore[assignment]
    original = log.record

    def fails(payload: dict[str, Any]) -> int:
        log.writer_up = False
        return original(payload)

    log.record = fails  # type: ignore[method-assign]
    with pytest.raises(Unavailable):
        gw.credit_report(q(request_id="r1"), "platforms/xian")
    assert log.leaves == []


def test_use_limit_reached_at_consent_releases_only_public(gw: Gateway) -> None:
    gw.consent_cache.decision = CachedDecision(  # type: ignore[attr-defined]
        True, cpb.DECISION_REASON_AUTHORIZED, "authorizations/a", frozenset({"TAX_PAYMENT"})
    )
    gw.consent.allow = False  # type: ignore[attr-defined]
    report = gw.credit_report(q(), "platforms/xian")
    assert [r.item_code for r in report.records] == ["REG_BASIC"]
    assert report.consent_reason == cpb.DECISION_REASON_USE_LIMIT_REACHED


def test_institution_never_gets_raw_non_public_rows(gw: Gateway) -> None:
    gw.consent_cache.decision = CachedDecision(  # type: ignore[attr-defined]
        True, cpb.DECISION_REASON_AUTHORIZED, "authorizations/a", frozenset(OPEN)
    )
    report = gw.credit_report(q(institution="institutions/boc"), "platforms/xian")
    assert [r.item_code for r in report.records] == ["REG_BASIC"]
    assert gw.consent.uses == []  # type: ignore[attr-defined]
    # No use was spent, so the leaf names no authorization: an arbitration package built from it must not present
    # one as the basis of this disclosure.
    (leaf,) = gw.disclosure_log.leaves  # type: ignore[attr-defined]
    assert (leaf["released"], leaf["authorization"]) == (["REG_BASIC"], "")


def test_a_report_that_released_nothing_is_recorded_but_not_as_a_refusal(gw: Gateway) -> None:
    # Every item withheld by the egress policy: an institution gets no raw non-public rows.
    assert (
        gw.credit_report(q(institution="institutions/boc", item_codes=("TAX_PAYMENT",)), "platforms/xian").records == []
    )
    # Authorized, and the enterprise has no records of the item.
    gw.consent_cache.decision = CachedDecision(  # type: ignore[attr-defined]
        True, cpb.DECISION_REASON_AUTHORIZED, "authorizations/a", frozenset({"TAX_PAYMENT"})
    )
    gw.registry.records = lambda uscc, item_codes, *, raw: []  # type: ignore[method-assign]
    report = gw.credit_report(q(item_codes=("TAX_PAYMENT",)), "platforms/xian")
    assert (report.allowed, report.records) == (True, [])
    leaves = gw.disclosure_log.leaves  # type: ignore[attr-defined]
    assert [(leaf["decision"], leaf["released"], leaf["withheld"]) for leaf in leaves] == [
        ("NOTHING_RELEASED", [], ["TAX_PAYMENT"]),
        ("NOTHING_RELEASED", [], []),
    ]
    # Supervision reads them as neither a release nor a denial of the platform.
    read = [Disclosure(i, datetime(2026, 12, 1, tzinfo=UTC), leaf) for i, leaf in enumerate(leaves)]
    assert [(d.released, d.denied, d.platform_denied) for d in read] == [(False, False, False)] * 2


def test_record_openness_is_checked_again_after_fetch(gw: Gateway) -> None:
    def stricter(uscc: str, item_codes: list[str], *, raw: bool) -> list[rec.CreditRecord]:
        return [rec.CreditRecord(item_code="REG_BASIC", openness=sl.OPENNESS_COMMERCIAL_SECRET)]

    gw.registry.records = stricter  # type: ignore[method-assign]
    assert gw.credit_report(q(item_codes=("REG_BASIC",)), "platforms/xian").records == []


def test_hostile_sizes_are_refused_and_the_denial_still_fits_the_log(gw: Gateway) -> None:
    from services.kit.evidence.entries import check_payload

    many = tuple(f"ITEM_{i}" for i in range(201))
    for hostile, field in ((q(item_codes=many), "item_codes"), (q(request_id="r" * 100_000), "request_id")):
        with pytest.raises(InvalidArgument) as err:
            gw.credit_report(hostile, "platforms/xian")
        assert err.value.metadata["field"] == field
    assert gw.registry.reads == []  # type: ignore[attr-defined]
    denials = gw.disclosure_log.leaves  # type: ignore[attr-defined]
    assert [len(d["request_id"]) for d in denials] == [0, 64]
    for denial in denials:
        check_payload(denial)  # what the real evidence log accepts (16 KiB at most)


def test_a_request_id_with_a_control_character_is_refused_before_any_use(gw: Gateway) -> None:
    # PostgreSQL cannot store a NUL: consent failed INTERNAL recording the use under such an id.
    with pytest.raises(InvalidArgument) as err:
        gw.credit_report(q(request_id="r\x00"), "platforms/xian")
    assert err.value.metadata["field"] == "request_id"
    assert gw.consent.uses == []  # type: ignore[attr-defined]
    assert gw.registry.reads == []  # type: ignore[attr-defined]


def test_errors_never_leak_a_value() -> None:
    from services.gateway.usecases import enterprise_uscc

    with pytest.raises(DomainError) as err:
        enterprise_uscc("enterprises/110101199003071235")
    assert "110101199003071234" not in err.value.message


@pytest.mark.parametrize("event_time", [datetime(2020, 6, 1, tzinfo=UTC), None], ids=["old", "no-event-time"])
def test_the_look_back_bounds_an_item_needing_an_authorization_today_whatever_its_records_version_said(
    gw: Gateway, event_time: datetime | None
) -> None:
    # TAX_PAYMENT is non-public now; an old record of it was stored under a list version that had it public. A record
    # without an event time cannot be shown to lie inside the look-back, so it stays in too.

    def records(uscc: str, item_codes: list[str], *, raw: bool) -> list[rec.CreditRecord]:
        r = rec.CreditRecord(name=f"{E}/records/old", item_code="TAX_PAYMENT", openness=sl.OPENNESS_PUBLIC)
        if event_time is not None:
            r.event_time.FromDatetime(event_time)
        return [r]

    gw.registry.records = records  # type: ignore[method-assign]
    gw.registry.held = False  # type: ignore[attr-defined]
    gw.consent_cache.decision = CachedDecision(  # type: ignore[attr-defined]
        True,
        cpb.DECISION_REASON_AUTHORIZED,
        "authorizations/a",
        frozenset({"TAX_PAYMENT"}),
        datetime(2024, 1, 1, tzinfo=UTC),
    )
    assert gw.credit_report(q(item_codes=("TAX_PAYMENT",)), "platforms/xian").records == []


def test_operating_data_covered_through_a_category_is_released_only_once_named(gw: Gateway) -> None:
    # Covered because the enterprise granted a category while TAX_INVOICE was non-public; the list made it operating
    # data since, and the enterprise never named it.
    covered = frozenset({"TAX_PAYMENT", "TAX_INVOICE"})
    decision = CachedDecision(True, cpb.DECISION_REASON_AUTHORIZED, "authorizations/a", covered)
    gw.consent_cache.decision = decision  # type: ignore[attr-defined]
    report = gw.credit_report(q(item_codes=("TAX_INVOICE", "TAX_PAYMENT")), "platforms/xian")
    assert [r.item_code for r in report.records] == ["TAX_PAYMENT"]
    assert not report.allowed
    gw.consent_cache.decision = CachedDecision(  # type: ignore[attr-defined]
        True, cpb.DECISION_REASON_AUTHORIZED, "authorizations/a", covered, named=frozenset({"TAX_INVOICE"})
    )
    report = gw.credit_report(
        q(item_codes=("TAX_INVOICE", "TAX_PAYMENT")),
        "platforms/xian",
    )
    assert sorted(r.item_code for r in report.records) == ["TAX_INVOICE", "TAX_PAYMENT"]


def test_a_record_needing_an_authorization_by_its_own_version_leaves_only_once_a_use_is_recorded(gw: Gateway) -> None:
    # REG_BASIC is public now; this record of it was stored under a list version that had it non-public, and the
    # authorization (granted then) covers it. The request's only item needing one today, TAX_INVOICE, is operating
    # data the enterprise never named: no use is recorded, so nothing non-public may leave (the use limit may be
    # reached, and the leaf would name no authorization for it).

    def records(uscc: str, item_codes: list[str], *, raw: bool) -> list[rec.CreditRecord]:
        return [rec.CreditRecord(name=f"{E}/records/old", item_code="REG_BASIC", openness=sl.OPENNESS_NON_PUBLIC)]

    gw.registry.records = records  # type: ignore[method-assign]
    covered = frozenset({"REG_BASIC", "TAX_INVOICE"})
    gw.consent_cache.decision = CachedDecision(True, cpb.DECISION_REASON_AUTHORIZED, "authorizations/a", covered)  # type: ignore[attr-defined]
    report = gw.credit_report(q(item_codes=("REG_BASIC", "TAX_INVOICE")), "platforms/xian")
    assert gw.consent.uses == []  # type: ignore[attr-defined]
    assert report.records == []
    assert gw.disclosure_log.leaves[-1]["decision"] == "NOTHING_RELEASED"  # type: ignore[attr-defined]


def test_a_self_query_the_enterprise_did_not_sign_spends_no_quota(gw: Gateway) -> None:
    gw.quotas = Quotas(QuotaLimits(enterprises_per_day=1), lambda: 0.0)
    gw.registry.enterprise_keys = lambda uscc: []  # type: ignore[attr-defined]
    other = "enterprises/91610100MA6TG5678" + calc_check_digit("91610100MA6TG5678")
    unsigned = SignedSelfQuery(other, ("TAX_PAYMENT",), "0" * 16, "n" * 20, datetime(2026, 11, 30, tzinfo=UTC), b"")
    with pytest.raises(DomainError) as err:
        gw.self_query(unsigned, "platforms/xian")
    assert err.value.reason == "ERROR_REASON_SIGNATURE_INVALID"
    # The platform's one enterprise of the day is still there for a real request about another enterprise.
    gw.consent_cache.decision = CachedDecision(  # type: ignore[attr-defined]
        True, cpb.DECISION_REASON_AUTHORIZED, "authorizations/a", frozenset({"TAX_PAYMENT"})
    )
    assert gw.credit_report(q(item_codes=("TAX_PAYMENT",)), "platforms/xian").records


class FakeScoring:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.alert_batches: list[Any] = []
        self.stopped = False

    def watch_alerts(self, institution: str, after_cursor: int) -> tuple[Any, Any]:
        self.calls.append(("WatchAlerts", institution))

        def stop() -> None:
            self.stopped = True

        return stop, iter(self.alert_batches)

    def call(self, method: str, request: Any) -> Any:
        from creditnode.scoring.v1 import scoring_service_pb2 as sc

        self.calls.append((method, request))
        if method == "GetPortrait":

            def tag(code: str, *items: str) -> sc.Tag:
                return sc.Tag(
                    code=code, evidence=[sc.RecordRef(record=f"r-{i}", version=1, item_code=i) for i in items]
                )

            return sc.GetPortraitResponse(
                portrait=sc.Portrait(
                    enterprise=request.enterprise,
                    score=700,
                    positive_tags=[tag("STEADY_TAXPAYER", "TAX_PAYMENT"), tag("GROWING_SALES", "TAX_INVOICE")],
                    risk_tags=[tag("LISTED", "REG_BASIC"), tag("NO_REFERENCES")],
                )
            )
        if method == "ReportLoan":
            return sc.ReportLoanResponse(loan=sc.Loan(institution=request.institution, platform=request.platform))
        if method == "GetEvaluation":

            def part(indicator: str, *items: str) -> sc.Contribution:
                refs = [sc.RecordRef(record=f"r-{i}", version=1, item_code=i) for i in items]
                return sc.Contribution(indicator=indicator, value=1.5, bin="[1, 2)", points=60, evidence=refs)

            parts = [
                part("tax_paid", "TAX_PAYMENT"),
                part("registered_years", "REG_BASIC"),
                part("invoice_sales_trend", "TAX_INVOICE"),  # operating data the authorization does not name
                part("tax_and_invoices", "TAX_PAYMENT", "TAX_INVOICE"),
                part("from_a_batch_without_references"),
            ]
            evaluation = sc.Evaluation(enterprise=request.enterprise, score=700, grade="A", contributions=parts)
            return sc.GetEvaluationResponse(evaluation=evaluation)
        return None


def test_derived_products_need_an_authorization_covering_non_public_data(gw: Gateway) -> None:
    gw.scoring = FakeScoring()  # type: ignore[assignment]
    with pytest.raises(PermissionDenied):
        gw.derived("GetPortrait", q(institution="institutions/boc"), "platforms/xian")
    assert gw.scoring.calls == []  # type: ignore[attr-defined]
    denial = gw.disclosure_log.leaves[-1]  # type: ignore[attr-defined]
    assert (denial["decision"], denial["requester"], denial["platform"]) == (
        "DENY",
        "institutions/boc",
        "platforms/xian",
    )
    gw.consent_cache.decision = CachedDecision(  # type: ignore[attr-defined]
        True, cpb.DECISION_REASON_AUTHORIZED, "authorizations/a", frozenset({"TAX_PAYMENT"})
    )
    result, authorization, leaf, _ = gw.derived("GetPortrait", q(institution="institutions/boc"), "platforms/xian")
    assert result.portrait.score == 700
    assert authorization == "authorizations/a"
    ((authorization, items, use_id),) = gw.consent.uses  # type: ignore[attr-defined]
    assert (authorization, items) == ("authorizations/a", ["TAX_PAYMENT"])
    assert use_id.startswith("gateway-")  # the request named none: one of its own
    logged = gw.disclosure_log.leaves[leaf]  # type: ignore[attr-defined]
    assert (logged["requester"], logged["released"]) == ("institutions/boc", ["portrait"])


def test_an_evaluation_explains_only_what_the_authorization_covers(gw: Gateway) -> None:
    # The score is the derived product; a raw indicator value and the records behind it are only released when the
    # authorization covers every non-public item it rests on (operating data only when named).
    gw.scoring = FakeScoring()  # type: ignore[assignment]
    gw.consent_cache.decision = CachedDecision(  # type: ignore[attr-defined]
        True, cpb.DECISION_REASON_AUTHORIZED, "authorizations/a", frozenset({"TAX_PAYMENT"})
    )
    result, _, leaf, digest = gw.derived("GetEvaluation", q(institution="institutions/boc"), "platforms/xian")
    shown = {
        c.indicator: (c.HasField("value"), c.bin, len(c.evidence), c.points) for c in result.evaluation.contributions
    }
    assert shown == {
        "tax_paid": (True, "[1, 2)", 1, 60),
        "registered_years": (True, "[1, 2)", 1, 60),
        "invoice_sales_trend": (False, "withheld", 0, 60),
        "tax_and_invoices": (False, "withheld", 0, 60),
        "from_a_batch_without_references": (False, "withheld", 0, 60),
    }
    assert result.evaluation.score == 700
    assert gw.disclosure_log.leaves[leaf]["payload_sha256"] == digest  # type: ignore[attr-defined]


def test_an_authorization_never_covers_a_commercial_secret_or_an_item_off_todays_list(gw: Gateway) -> None:
    # Consent resolves covered items once, at the grant: an item a later list version made a commercial secret (or
    # took off the list) stays in covered_items. A secret can never be authorized, and an item whose openness is not
    # known cannot be judged: an indicator or a tag resting on either explains nothing.
    from creditnode.scoring.v1 import scoring_service_pb2 as sc

    gw.scoring = FakeScoring()  # type: ignore[assignment]
    covered = frozenset({"TAX_PAYMENT", "TAX_FINANCIAL_STATEMENT", "RETIRED_ITEM"})
    gw.consent_cache.decision = CachedDecision(True, cpb.DECISION_REASON_AUTHORIZED, "authorizations/a", covered)  # type: ignore[attr-defined]
    refs = {i: [sc.RecordRef(record=f"r-{i}", version=1, item_code=i)] for i in covered}
    parts = [sc.Contribution(indicator=i, value=1.5, bin="[1, 2)", points=60, evidence=r) for i, r in refs.items()]
    tags = [sc.Tag(code=i, evidence=r) for i, r in refs.items()]
    answers = {
        "GetEvaluation": sc.GetEvaluationResponse(
            evaluation=sc.Evaluation(enterprise=E, score=700, contributions=parts)
        ),
        "GetPortrait": sc.GetPortraitResponse(portrait=sc.Portrait(enterprise=E, score=700, positive_tags=tags)),
    }
    gw.scoring.call = lambda method, request: answers[method]  # type: ignore[method-assign]
    result, *_ = gw.derived("GetEvaluation", q(institution="institutions/boc"), "platforms/xian")
    assert sorted(c.indicator for c in result.evaluation.contributions if c.HasField("value")) == ["TAX_PAYMENT"]
    result, *_ = gw.derived("GetPortrait", q(institution="institutions/boc"), "platforms/xian")
    assert [t.code for t in result.portrait.positive_tags] == ["TAX_PAYMENT"]


def test_a_missing_indicator_names_the_records_it_looked_at_only_when_covered() -> None:
    from creditnode.scoring.v1 import scoring_service_pb2 as sc

    def missing(indicator: str, item: str) -> sc.Contribution:
        refs = [sc.RecordRef(record=f"{E}/records/r-{item}", version=1, item_code=item)]
        return sc.Contribution(indicator=indicator, missing=True, bin="missing", points=0, evidence=refs)

    evaluation = sc.Evaluation(
        enterprise=E, contributions=[missing("tax_ratio", "TAX_PAYMENT"), missing("sales", "TAX_INVOICE")]
    )
    _withhold_uncovered(evaluation, Coverage(frozenset({"TAX_PAYMENT"})), OPEN, None)
    shown = {c.indicator: (c.bin, [r.item_code for r in c.evidence]) for c in evaluation.contributions}
    assert shown == {"tax_ratio": ("missing", ["TAX_PAYMENT"]), "sales": ("missing", [])}  # opt-in data not named


def test_a_portrait_keeps_only_tags_resting_on_what_the_authorization_covers(gw: Gateway) -> None:
    # As for an evaluation's indicators: a tag says something about the records behind it.
    gw.scoring = FakeScoring()  # type: ignore[assignment]
    gw.consent_cache.decision = CachedDecision(  # type: ignore[attr-defined]
        True, cpb.DECISION_REASON_AUTHORIZED, "authorizations/a", frozenset({"TAX_PAYMENT", "TAX_INVOICE"})
    )
    result, *_ = gw.derived("GetPortrait", q(institution="institutions/boc"), "platforms/xian")
    kept = ([t.code for t in result.portrait.positive_tags], [t.code for t in result.portrait.risk_tags])
    assert kept == (["STEADY_TAXPAYER"], ["LISTED"])  # operating data never named; a tag naming no record
    assert result.portrait.score == 700


class _ScoringAboutAnother(FakeScoring):
    def call(self, method: str, request: Any) -> Any:
        answer = super().call(method, request)
        product = answer.portrait if method == "GetPortrait" else answer.evaluation
        product.enterprise = "enterprises/91610100MA6TG5678X"
        return answer


@pytest.mark.parametrize("method", ["GetEvaluation", "GetPortrait"])
def test_a_derived_product_about_another_enterprise_does_not_leave(gw: Gateway, method: str) -> None:
    gw.scoring = _ScoringAboutAnother()  # type: ignore[assignment]
    gw.consent_cache.decision = CachedDecision(  # type: ignore[attr-defined]
        True, cpb.DECISION_REASON_AUTHORIZED, "authorizations/a", frozenset({"TAX_PAYMENT"})
    )
    with pytest.raises(DomainError) as err:
        gw.derived(method, q(institution="institutions/boc"), "platforms/xian")
    assert err.value.kind == "INTERNAL"
    assert [leaf["decision"] for leaf in gw.disclosure_log.leaves] == ["DENY"]  # type: ignore[attr-defined]


def test_without_scoring_a_derived_product_records_no_use(gw: Gateway) -> None:
    # A use recorded for a product that cannot be made would spend a one-time authorization on nothing.
    gw.scoring = None
    gw.consent_cache.decision = CachedDecision(  # type: ignore[attr-defined]
        True, cpb.DECISION_REASON_AUTHORIZED, "authorizations/a", frozenset({"TAX_PAYMENT"})
    )
    with pytest.raises(Unavailable):
        gw.derived("GetEvaluation", q(institution="institutions/boc"), "platforms/xian")
    assert gw.consent.uses == []  # type: ignore[attr-defined]


class _ScoringThatCannotAnswer(FakeScoring):
    def __init__(self, error: DomainError) -> None:
        super().__init__()
        self.error = error

    def call(self, method: str, request: Any) -> Any:
        self.calls.append((method, request))
        raise self.error


@pytest.mark.parametrize(
    ("method", "error"),
    [
        ("GetScenarioScore", NotFound("ERROR_REASON_SCENARIO_MODEL_NOT_FOUND", "no such scenario model")),
        ("GetEvaluation", NotFound("ERROR_REASON_EVALUATION_NOT_FOUND", "the enterprise has no evaluation")),
        ("GetPortrait", Unavailable("ERROR_REASON_DEPENDENCY_UNAVAILABLE", "scoring is unavailable")),
    ],
)
def test_a_derived_product_scoring_cannot_make_spends_no_use(gw: Gateway, method: str, error: DomainError) -> None:
    # A wrong scenario model name (the institution's mistake), or scoring unable to answer, spent one of the
    # enterprise's limited uses on nothing: the use was recorded before scoring was asked.
    gw.scoring = _ScoringThatCannotAnswer(error)  # type: ignore[assignment]
    gw.consent_cache.decision = CachedDecision(  # type: ignore[attr-defined]
        True, cpb.DECISION_REASON_AUTHORIZED, "authorizations/a", frozenset({"TAX_PAYMENT"})
    )
    model = "institutions/boc/scenarioModels/no-such-model" if method == "GetScenarioScore" else ""
    with pytest.raises(DomainError) as err:
        gw.derived(method, q(institution="institutions/boc"), "platforms/xian", model)
    assert err.value.reason == error.reason
    assert [m for m, _ in gw.scoring.calls] == [method]  # type: ignore[attr-defined]
    assert gw.consent.uses == []  # type: ignore[attr-defined]
    assert [leaf["decision"] for leaf in gw.disclosure_log.leaves] == ["DENY"]  # type: ignore[attr-defined]


def test_a_derived_product_whose_use_consent_refuses_does_not_leave(gw: Gateway) -> None:
    # Scoring answers before the use is spent: its answer stays here unless consent records the use.
    gw.scoring = FakeScoring()  # type: ignore[assignment]
    gw.consent.allow = False  # type: ignore[attr-defined]
    gw.consent_cache.decision = CachedDecision(  # type: ignore[attr-defined]
        True, cpb.DECISION_REASON_AUTHORIZED, "authorizations/a", frozenset({"TAX_PAYMENT"})
    )
    with pytest.raises(PermissionDenied):
        gw.derived("GetEvaluation", q(institution="institutions/boc"), "platforms/xian")
    assert len(gw.consent.uses) == 1  # type: ignore[attr-defined]
    assert [leaf["decision"] for leaf in gw.disclosure_log.leaves] == ["DENY"]  # type: ignore[attr-defined]


def test_loans_are_reported_as_the_callers_institution_and_platform(gw: Gateway) -> None:
    from creditnode.scoring.v1 import scoring_service_pb2 as sc

    gw.scoring = FakeScoring()  # type: ignore[assignment]
    loan = sc.ReportLoanRequest(loan_id="l-1", institution="institutions/boc", platform="platforms/forged")
    result = gw.report_loan(loan, "platforms/xian", "")
    assert (result.loan.platform, result.loan.institution) == ("platforms/xian", "institutions/boc")
    gw.participants.institutions["institutions/boc"] = InstitutionView(  # type: ignore[attr-defined]
        "institutions/boc", "platforms/xian", False
    )
    with pytest.raises(PermissionDenied):
        gw.report_loan(loan, "platforms/xian", "")


def _alert(cursor: int, *items: str) -> Any:
    from creditnode.scoring.v1 import scoring_service_pb2 as sc

    refs = [sc.RecordRef(record=f"{E}/records/r{cursor}-{i}", version=1, item_code=i) for i in items]
    return sc.Alert(cursor=cursor, institution="institutions/boc", enterprise=E, risk="NEW_ENFORCEMENT", evidence=refs)


def test_alerts_pass_only_under_a_monitoring_authorization_covering_their_items_each_recorded(gw: Gateway) -> None:
    from creditnode.scoring.v1 import scoring_service_pb2 as sc

    gw.scoring = scoring = FakeScoring()  # type: ignore[assignment]
    alerts = [_alert(1, "REG_BASIC", "TAX_PAYMENT"), _alert(2, "TAX_PAYMENT", "TAX_INVOICE"), _alert(3)]
    scoring.alert_batches = [sc.WatchAlertsResponse(alerts=alerts, cursor=3), sc.WatchAlertsResponse(cursor=3)]
    gw.consent_cache.decision = CachedDecision(  # type: ignore[attr-defined]
        True, cpb.DECISION_REASON_AUTHORIZED, "authorizations/m", frozenset({"TAX_PAYMENT"})
    )
    batches = list(gw.risk_alerts("institutions/boc", 0, "platforms/xian", ""))
    # The opt-in item of alert 2 is not covered: withheld. Alert 3 rests on no record: the purpose's cover suffices.
    assert [([a.cursor for a in b.alerts], b.cursor) for b in batches] == [([1, 3], 3), ([], 3)]
    assert {purpose for _, _, purpose, _ in gw.consent_cache.asked} == {"POST_LOAN_MONITORING"}  # type: ignore[attr-defined]
    assert gw.consent_cache.asked[0][3] == {"REG_BASIC", "TAX_PAYMENT"}  # type: ignore[attr-defined]
    leaves = gw.disclosure_log.leaves  # type: ignore[attr-defined]
    assert len(leaves) == 2
    for alert, (leaf, digest) in zip(batches[0].alerts, batches[0].receipts, strict=True):
        logged = leaves[leaf]
        assert (logged["requester"], logged["enterprise"], logged["authorization"]) == (
            "institutions/boc",
            E,
            "authorizations/m",
        )
        assert logged["alert_cursor"] == alert.cursor
        assert (
            logged["payload_sha256"]
            == digest
            == hashlib.sha256(alert.SerializeToString(deterministic=True)).hexdigest()
        )
    assert scoring.stopped


def test_without_a_monitoring_authorization_no_alert_passes_and_without_consent_the_stream_fails(gw: Gateway) -> None:
    from creditnode.scoring.v1 import scoring_service_pb2 as sc

    gw.scoring = scoring = FakeScoring()  # type: ignore[assignment]
    scoring.alert_batches = [sc.WatchAlertsResponse(alerts=[_alert(1, "TAX_PAYMENT")], cursor=1)]
    assert [(list(b.alerts), b.cursor) for b in gw.risk_alerts("institutions/boc", 0, "platforms/xian", "")] == [
        ([], 1)
    ]
    assert gw.disclosure_log.leaves == []  # type: ignore[attr-defined]
    gw.consent_cache.decision = None  # type: ignore[attr-defined] # the consent lease lapsed
    with pytest.raises(Unavailable):
        list(gw.risk_alerts("institutions/boc", 0, "platforms/xian", ""))


def test_refused_relays_are_recorded_as_denials(gw: Gateway) -> None:
    from creditnode.scoring.v1 import scoring_service_pb2 as sc

    gw.scoring = FakeScoring()  # type: ignore[assignment]
    refusals = [
        lambda: gw.report_loan(sc.ReportLoanRequest(institution="institutions/boc"), "platforms/ghost", ""),
        lambda: gw.ack_alerts("institutions/boc", 1, "r", "platforms/ghost", ""),
        lambda: list(gw.risk_alerts("institutions/boc", 0, "platforms/ghost", "")),
        lambda: gw.get_objection("objections/o1", "platforms/ghost", ""),
        lambda: gw.relay_consent("GrantAuthorization", object(), "platforms/ghost", ""),
    ]
    for refuse in refusals:
        with pytest.raises(PermissionDenied):
            refuse()
    leaves = gw.disclosure_log.leaves  # type: ignore[attr-defined]
    assert [(leaf["type"], leaf["decision"], leaf["caller"]) for leaf in leaves] == [
        (method, "DENY", "platforms/ghost")
        for method in ("ReportLoan", "AckAlerts", "risk_alerts", "GetObjection", "GrantAuthorization")
    ]


def _suspended_meanwhile(gw: Gateway, read: Any) -> Any:
    """Wrap a read so that, while it runs, the participant watch learns the platform was suspended."""

    def reading(*args: Any, **kwargs: Any) -> Any:
        gw.participants.platforms["platforms/xian"] = PlatformView(  # type: ignore[attr-defined]
            "platforms/xian", False, "", False, 1
        )
        return read(*args, **kwargs)

    return reading


def test_a_platform_suspended_between_the_check_and_the_release_gets_nothing(gw: Gateway) -> None:
    gw.consent_cache.decision = CachedDecision(  # type: ignore[attr-defined]
        True, cpb.DECISION_REASON_AUTHORIZED, "authorizations/a", frozenset({"TAX_PAYMENT"})
    )
    gw.registry.records = _suspended_meanwhile(gw, gw.registry.records)  # type: ignore[method-assign]
    with pytest.raises(PermissionDenied) as err:
        gw.credit_report(q(request_id="r1"), "platforms/xian")
    assert err.value.reason == "ERROR_REASON_PLATFORM_NOT_ADMITTED"
    assert [leaf["decision"] for leaf in gw.disclosure_log.leaves] == ["DENY"]  # type: ignore[attr-defined]


def test_a_derived_product_is_not_released_to_a_platform_suspended_while_scoring_answered(gw: Gateway) -> None:
    gw.consent_cache.decision = CachedDecision(  # type: ignore[attr-defined]
        True, cpb.DECISION_REASON_AUTHORIZED, "authorizations/a", frozenset({"TAX_PAYMENT"})
    )
    scoring = FakeScoring()
    scoring.call = _suspended_meanwhile(gw, scoring.call)  # type: ignore[method-assign]
    gw.scoring = scoring  # type: ignore[assignment]
    with pytest.raises(PermissionDenied) as err:
        gw.derived("GetEvaluation", q(institution="institutions/boc"), "platforms/xian")
    assert err.value.reason == "ERROR_REASON_PLATFORM_NOT_ADMITTED"
    assert [leaf["decision"] for leaf in gw.disclosure_log.leaves] == ["DENY"]  # type: ignore[attr-defined]
    assert gw.consent.uses == []  # type: ignore[attr-defined]  # nothing could leave: the enterprise's use is kept


def test_a_self_query_is_not_released_through_a_platform_suspended_while_records_were_read(gw: Gateway) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from services.gateway.domain.selfquery import EnterpriseKey, canonical_lines

    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes_raw()
    gw.registry.enterprise_keys = lambda uscc: [EnterpriseKey("k1", public, True)]  # type: ignore[method-assign]
    gw.registry.records = _suspended_meanwhile(gw, gw.registry.records)  # type: ignore[method-assign]
    at = gw.clock().replace(microsecond=0)
    unsigned = SignedSelfQuery(E, ("TAX_PAYMENT",), "k1", "n" * 20, at, b"")
    signed = SignedSelfQuery(E, ("TAX_PAYMENT",), "k1", "n" * 20, at, key.sign(canonical_lines(unsigned)))
    with pytest.raises(PermissionDenied):
        gw.self_query(signed, "platforms/xian")
    assert [leaf["decision"] for leaf in gw.disclosure_log.leaves] == ["DENY"]  # type: ignore[attr-defined]


def test_a_self_query_releases_only_the_enterprises_own_records_of_the_items_it_signed_for(gw: Gateway) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from services.gateway.domain.selfquery import EnterpriseKey, canonical_lines

    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes_raw()
    gw.registry = _RegistrySendingMore()  # type: ignore[assignment]
    gw.registry.enterprise_keys = lambda uscc: [EnterpriseKey("k1", public, True)]  # type: ignore[attr-defined]
    at = gw.clock().replace(microsecond=0)
    unsigned = SignedSelfQuery(E, ("REG_BASIC",), "k1", "n" * 20, at, b"")
    signed = SignedSelfQuery(E, ("REG_BASIC",), "k1", "n" * 20, at, key.sign(canonical_lines(unsigned)))
    report = gw.self_query(signed, "platforms/xian")
    assert [r.name for r in report.records] == [f"{E}/records/reg_basic"]  # raw: another enterprise's would leave


def test_an_alert_is_not_passed_on_to_an_institution_whose_platform_was_suspended_while_its_use_was_recorded(
    gw: Gateway,
) -> None:
    from creditnode.scoring.v1 import scoring_service_pb2 as sc

    gw.scoring = scoring = FakeScoring()  # type: ignore[assignment]
    scoring.alert_batches = [sc.WatchAlertsResponse(alerts=[_alert(1, "TAX_PAYMENT")], cursor=1)]
    gw.consent_cache.decision = CachedDecision(  # type: ignore[attr-defined]
        True, cpb.DECISION_REASON_AUTHORIZED, "authorizations/m", frozenset({"TAX_PAYMENT"})
    )
    gw.consent.consume = _suspended_meanwhile(gw, gw.consent.consume)  # type: ignore[method-assign]
    with pytest.raises(PermissionDenied):
        list(gw.risk_alerts("institutions/boc", 0, "platforms/xian", ""))
    assert [leaf["decision"] for leaf in gw.disclosure_log.leaves] == ["DENY"]  # type: ignore[attr-defined]
    assert scoring.stopped


def test_an_alert_stream_ends_once_the_certificate_it_was_opened_with_is_revoked(gw: Gateway) -> None:
    # A new certificate for another key revokes the old one (its key is taken as compromised): every call with it is
    # refused from then on, and so is a stream opened with it before, at its next batch.
    from creditnode.gateway.v1 import gateway_service_pb2 as gpb
    from creditnode.scoring.v1 import scoring_service_pb2 as sc
    from services.gateway.api.servicer import GatewayServicer

    gw.scoring = scoring = FakeScoring()  # type: ignore[assignment]
    scoring.alert_batches = [
        sc.WatchAlertsResponse(alerts=[_alert(1, "TAX_PAYMENT")], cursor=1),
        sc.WatchAlertsResponse(alerts=[_alert(2, "TAX_PAYMENT")], cursor=2),
    ]
    gw.consent_cache.decision = CachedDecision(  # type: ignore[attr-defined]
        True, cpb.DECISION_REASON_AUTHORIZED, "authorizations/m", frozenset({"TAX_PAYMENT"})
    )
    revoked = False

    def identify(context: Any) -> str:
        if revoked:
            raise RevokedCertificate("platforms/xian")
        return "platforms/xian"

    servicer = GatewayServicer(gw, identify, packages=None)  # type: ignore[arg-type]
    stream = servicer.SubscribeRiskAlerts(gpb.SubscribeRiskAlertsRequest(institution="institutions/boc"), None)  # type: ignore[arg-type]
    assert [a.cursor for a in next(stream).alerts] == [1]
    revoked = True  # IssuePlatformCertificate returned: this replica applied the new serial
    with pytest.raises(RevokedCertificate):
        next(stream)
    leaves = gw.disclosure_log.leaves  # type: ignore[attr-defined]
    assert [leaf.get("alert_cursor") for leaf in leaves if leaf["decision"] == "ALLOW"] == [1]
    assert leaves[-1]["decision"] == "DENY"
    assert leaves[-1]["revoked_certificate_of"] == "platforms/xian"
    assert scoring.stopped


def test_a_refusal_is_logged_naming_the_platform_and_its_reason_and_nothing_personal(gw: Gateway) -> None:
    with capture_logs() as logs, pytest.raises(PermissionDenied):
        gw.credit_report(q(request_id="r-1"), "platforms/ghost")
    refused = [e for e in logs if e["event"] == "request_refused"]
    assert refused == [
        {
            "event": "request_refused",
            "log_level": "info",
            "method": "credit_report",
            "reason": "ERROR_REASON_PLATFORM_NOT_ADMITTED",
            "caller": "platforms/ghost",
        }
    ]


def test_a_proxied_platform_refused_at_admission_is_named_in_the_refusal(gw: Gateway) -> None:
    # For the operator confirming a suspension behind 秦信融: the caller is the aggregator, the refused one is named.
    gw.participants.platforms["platforms/qinxinrong"] = PlatformView(  # type: ignore[attr-defined]
        "platforms/qinxinrong", True, "", True, 2
    )
    gw.participants.platforms["platforms/county"] = PlatformView(  # type: ignore[attr-defined]
        "platforms/county", False, "platforms/qinxinrong", False, None
    )
    with capture_logs() as logs, pytest.raises(PermissionDenied):
        gw.credit_report(q(on_behalf_of="platforms/county"), "platforms/qinxinrong")
    leaf = gw.disclosure_log.leaves[-1]  # type: ignore[attr-defined]
    assert (leaf["caller"], leaf["on_behalf_of"]) == ("platforms/qinxinrong", "platforms/county")
    assert [e.get("on_behalf_of") for e in logs if e["event"] == "request_refused"] == ["platforms/county"]


def test_a_revoked_certificates_platform_is_recorded_apart_from_the_caller(gw: Gateway) -> None:
    exc = RevokedCertificate("platforms/xian")
    with capture_logs() as logs:
        gw.denied("credit_report", "", E, exc, "r-2", revoked_certificate_of(exc))
    leaf = gw.disclosure_log.leaves[-1]  # type: ignore[attr-defined]
    # Not authenticated: not the caller (who may fetch a leaf's inclusion proof), nor counted as the platform's request.
    assert (leaf["caller"], leaf["revoked_certificate_of"]) == ("unauthenticated", "platforms/xian")
    assert "platform" not in leaf
    assert "requester" not in leaf
    assert [(e["reason"], e["revoked_certificate_of"]) for e in logs if e["event"] == "request_refused"] == [
        ("ERROR_REASON_CERTIFICATE_REVOKED", "platforms/xian")
    ]
    assert revoked_certificate_of(PermissionDenied("ERROR_REASON_PERMISSION_DENIED", "no")) == ""


def test_a_request_id_holding_a_personal_number_is_refused_before_any_use_and_the_denial_still_recorded(
    gw: Gateway,
) -> None:
    # Before, the use was spent at consent and then the release's leaf was refused by the evidence log's check.
    with pytest.raises(InvalidArgument) as err:
        gw.credit_report(q(request_id="13800138000"), "platforms/xian")
    assert err.value.metadata["field"] == "request_id"
    assert gw.consent.uses == []  # type: ignore[attr-defined]
    assert gw.registry.reads == []  # type: ignore[attr-defined]
    (denial,) = gw.disclosure_log.leaves  # type: ignore[attr-defined]
    assert (denial["decision"], denial["request_id"]) == ("DENY", "")


@pytest.mark.parametrize("sent", ["enterprises/张三", "enterprises/110101199003074514", "张三 13800138000"])
def test_a_malformed_enterprise_is_not_kept_in_the_permanent_log_and_its_denial_is_recorded(
    gw: Gateway, sent: str
) -> None:
    with pytest.raises(InvalidArgument):
        gw.credit_report(q(enterprise=sent, request_id="r-3"), "platforms/xian")
    (denial,) = gw.disclosure_log.leaves  # type: ignore[attr-defined]
    assert (denial["decision"], denial["enterprise"], denial["request_id"]) == ("DENY", "", "r-3")


def test_a_report_naming_no_request_id_spends_its_use_under_an_id_of_its_own(gw: Gateway) -> None:
    # Without one, a batch the channel retried after consent committed it (UNAVAILABLE) would spend the use twice.
    gw.consent_cache.decision = CachedDecision(  # type: ignore[attr-defined]
        True, cpb.DECISION_REASON_AUTHORIZED, "authorizations/a", frozenset({"TAX_PAYMENT"})
    )
    gw.credit_report(q(), "platforms/xian")
    gw.credit_report(q(), "platforms/xian")
    ids = [request_id for _, _, request_id in gw.consent.uses]  # type: ignore[attr-defined]
    assert len(ids) == 2
    assert ids[0] != ids[1]
    assert all(i.startswith("gateway-") for i in ids)
    assert [leaf["request_id"] for leaf in gw.disclosure_log.leaves] == ["", ""]  # type: ignore[attr-defined]


def test_a_record_whose_publicity_ended_is_not_released(gw: Gateway) -> None:
    now = datetime(2026, 3, 15, 16, 0, tzinfo=UTC)  # 2026-03-16 00:00 in Beijing
    gw.clock = lambda: now

    def penalties(uscc: str, item_codes: list[str], *, raw: bool) -> list[rec.CreditRecord]:
        made = []
        for suffix, seconds in (("ended", -1), ("ends-now", 0), ("running", 1), ("no-period", None)):
            r = rec.CreditRecord(name=f"{E}/records/{suffix}", item_code="REG_BASIC", openness=WIRE[Openness.PUBLIC])  # type: ignore[arg-type]
            if seconds is not None:
                r.publicity_end_time.FromDatetime(now + timedelta(seconds=seconds))
            made.append(r)
        return made

    gw.registry.records = penalties  # type: ignore[method-assign]
    report = gw.credit_report(q(item_codes=("REG_BASIC",)), "platforms/xian")
    # The end is the first instant no longer published: a record ending now is not released.
    assert [r.name.rsplit("/", 1)[-1] for r in report.records] == ["running", "no-period"]
    assert gw.disclosure_log.leaves[-1]["records"] == ["running", "no-period"]  # type: ignore[attr-defined]
