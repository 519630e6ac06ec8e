"""The reliability suite's egress oracle judges derived products and use limits as the policy does."""

from __future__ import annotations

from creditnode.scoring.v1 import scoring_service_pb2 as spb
from tests.reliability.oracle import REPORT, Grant, Release, World, unrecorded_uses, use_limit_violations

E = "enterprises/91610100MA6TG1234E"
BOC = "institutions/boc"
MODEL = "institutions/boc/scenarioModels/s"


def _world(*items: str, max_uses: int = 0) -> World:
    world = World(good_callers={"xian"}, proxies={}, institutions={BOC: "platforms/xian"})
    world.grants = {Grant(BOC, E, "PRE_LOAN", frozenset(items), "authorizations/a", max_uses)}
    world.scenario_models = {MODEL: BOC}
    return world


def _ref(item: str) -> spb.RecordRef:
    return spb.RecordRef(record=f"{E}/records/1", version=1, item_code=item)


def _shown(indicator: str, *items: str) -> spb.Contribution:
    return spb.Contribution(indicator=indicator, value=0.2, bin="[0.1, 0.3)", points=80, evidence=map(_ref, items))


def _points_only(indicator: str) -> spb.Contribution:
    return spb.Contribution(indicator=indicator, bin="withheld", points=80)


def _evaluation(*contributions: spb.Contribution, enterprise: str = E) -> spb.Evaluation:
    return spb.Evaluation(enterprise=enterprise, score=700, grade="BBB", contributions=contributions)


def _tag(code: str, *items: str) -> spb.Tag:
    return spb.Tag(code=code, evidence=map(_ref, items))


def test_a_derived_product_under_an_authorization_of_public_items_only_is_a_violation() -> None:
    assert _world("REG_BASIC").derived_violation(BOC, E, "PRE_LOAN") is not None


def test_a_derived_product_under_an_authorization_covering_non_public_data_is_allowed() -> None:
    world = _world("REG_BASIC", "TAX_PAYMENT")
    assert world.derived_violation(BOC, E, "PRE_LOAN") is None
    assert world.derived_violation(BOC, E, "IN_LOAN") is not None  # another purpose
    assert world.derived_violation(None, E, "PRE_LOAN") is not None  # a refused caller


def test_an_evaluation_explains_only_indicators_whose_items_the_authorization_covers() -> None:
    world = _world("TAX_PAYMENT")
    allowed = _evaluation(
        _shown("tax_paid_trend", "TAX_PAYMENT"),
        _shown("years_in_business", "REG_BASIC"),  # public
        _points_only("invoice_sales_trend"),  # opt-in, not named: its points only
        spb.Contribution(indicator="si_arrears_open", bin="missing", missing=True),
    )
    assert world.evaluation_violations(BOC, E, "PRE_LOAN", allowed) == []
    # Opt-in data the authorization does not name, shown in detail.
    bad = world.evaluation_violations(BOC, E, "PRE_LOAN", _evaluation(_shown("invoice_sales_trend", "TAX_INVOICE")))
    assert len(bad) == 1
    assert "invoice_sales_trend" in bad[0]


def test_an_indicator_judged_by_the_items_the_model_says_it_reads_not_by_the_answers_references() -> None:
    world = _world("TAX_PAYMENT")
    # Its references claim a public item, but the model reads TAX_INVOICE: uncovered all the same.
    evaluation = _evaluation(_shown("invoice_sales_trend", "REG_BASIC"))
    assert world.evaluation_violations(BOC, E, "PRE_LOAN", evaluation)
    # An indicator the model does not know rests on nothing the oracle can clear.
    assert world.evaluation_violations(BOC, E, "PRE_LOAN", _evaluation(_shown("made_up", "REG_BASIC")))


def test_a_detail_resting_on_no_record_is_a_violation() -> None:
    world = _world("TAX_PAYMENT")
    value_without_records = spb.Contribution(indicator="tax_paid_trend", value=0.1, bin="withheld", points=80)
    bin_without_records = spb.Contribution(indicator="years_in_business", bin="[10, 20)", points=90)
    for c in (value_without_records, bin_without_records):
        assert world.evaluation_violations(BOC, E, "PRE_LOAN", _evaluation(c)), c


def test_an_evaluation_of_another_enterprise_or_without_authorization_is_a_violation() -> None:
    world = _world("TAX_PAYMENT")
    other = _evaluation(enterprise="enterprises/91610100MA6TG9999X")
    assert world.evaluation_violations(BOC, E, "PRE_LOAN", other)
    assert world.evaluation_violations(BOC, E, "IN_LOAN", _evaluation())
    assert world.evaluation_violations(None, E, "PRE_LOAN", _evaluation())


def test_a_scenario_score_only_to_the_institution_owning_the_model() -> None:
    world = _world("TAX_PAYMENT")
    world.institutions["institutions/icbc"] = "platforms/xian"
    world.grants.add(Grant("institutions/icbc", E, "PRE_LOAN", frozenset({"TAX_PAYMENT"}), "authorizations/b"))
    assert world.evaluation_violations(BOC, E, "PRE_LOAN", _evaluation(), MODEL) == []
    assert world.evaluation_violations("institutions/icbc", E, "PRE_LOAN", _evaluation(), MODEL)


def test_a_portrait_keeps_only_tags_whose_items_the_authorization_covers() -> None:
    world = _world("TAX_PAYMENT")
    fine = spb.Portrait(enterprise=E, score=700, positive_tags=[_tag("ESTABLISHED", "REG_BASIC")])
    assert world.portrait_violations(BOC, E, "PRE_LOAN", fine) == []
    # GROWING_SALES reads opt-in TAX_INVOICE; STEADY_TAXPAYER also reads TAX_CREDIT_GRADE, neither covered.
    for tag in (_tag("GROWING_SALES", "TAX_INVOICE"), _tag("STEADY_TAXPAYER", "TAX_PAYMENT"), _tag("ESTABLISHED")):
        portrait = spb.Portrait(enterprise=E, risk_tags=[tag])
        assert world.portrait_violations(BOC, E, "PRE_LOAN", portrait), tag.code
    assert _world("REG_BASIC").portrait_violations(BOC, E, "PRE_LOAN", fine)  # no non-public item authorized


def test_details_must_all_be_covered_by_one_authorization() -> None:
    world = _world("TAX_PAYMENT")
    world.grants.add(Grant(BOC, E, "PRE_LOAN", frozenset({"TAX_INVOICE"}), "authorizations/b"))
    both = _evaluation(_shown("tax_paid_trend", "TAX_PAYMENT"), _shown("invoice_sales_trend", "TAX_INVOICE"))
    assert world.evaluation_violations(BOC, E, "PRE_LOAN", both)
    world.grants.add(Grant(BOC, E, "PRE_LOAN", frozenset({"TAX_PAYMENT", "TAX_INVOICE"}), "authorizations/c"))
    assert world.evaluation_violations(BOC, E, "PRE_LOAN", both) == []


def test_releases_over_a_use_limit_are_violations_and_retries_are_not() -> None:
    world = _world("TAX_PAYMENT", max_uses=2)
    served = world.serving(BOC, E, "PRE_LOAN")
    assert len(served) == 1
    twice = [Release(served, "GetEvaluation", "r1"), Release(served, "GetEvaluation", "r2")]
    retried = [*twice, Release(served, "GetEvaluation", "r1")]
    assert use_limit_violations(retried) == []
    # Another product under a request id already used is another release, as is one without a request id.
    for extra in (Release(served, "GetPortrait", "r1"), Release(served, "GetEvaluation", "")):
        assert use_limit_violations([*twice, extra])
    assert use_limit_violations([Release(served, REPORT, ""), Release(served, REPORT, "")]) == []


def test_a_use_limit_is_shared_by_the_grants_that_could_have_served_a_release() -> None:
    world = _world("TAX_PAYMENT", max_uses=1)
    world.grants.add(Grant(BOC, E, "PRE_LOAN", frozenset({"TAX_PAYMENT"}), "authorizations/b", 1))
    both = world.serving(BOC, E, "PRE_LOAN", ["TAX_PAYMENT"])
    assert len(both) == 2
    assert use_limit_violations([Release(both, REPORT, "r1"), Release(both, REPORT, "r2")]) == []
    assert use_limit_violations([Release(both, REPORT, f"r{i}") for i in range(3)])
    # A grant without a known limit could have served any number.
    world.grants.add(Grant(BOC, E, "PRE_LOAN", frozenset({"TAX_PAYMENT"}), "authorizations/c"))
    three = world.serving(BOC, E, "PRE_LOAN", ["TAX_PAYMENT"])
    assert use_limit_violations([Release(three, REPORT, f"r{i}") for i in range(3)]) == []


def test_the_answers_authorization_must_be_one_the_world_gave() -> None:
    world = _world("TAX_PAYMENT")
    release = Release(world.serving(BOC, E, "PRE_LOAN"), "GetPortrait", "r1")
    assert world.authorization_violation(release, "authorizations/a") is None
    assert world.authorization_violation(release, "authorizations/forged") is not None
    assert world.authorization_violation(release, "") is not None


def _leaf(product: str | None, rid: str, released: list[str], **over: str) -> dict[str, object]:
    leaf: dict[str, object] = {
        "decision": "ALLOW",
        "requester": BOC,
        "enterprise": E,
        "purpose": "PRE_LOAN",
        "authorization": "authorizations/a",
        "request_id": rid,
        "released": released,
        **over,
    }
    if product:
        leaf["product"] = product
    return leaf


def test_the_disclosure_log_is_counted_per_product_and_request_id() -> None:
    world = _world("TAX_PAYMENT", max_uses=2)
    within = {
        1: _leaf(None, "r1", ["TAX_PAYMENT", "REG_BASIC"]),
        2: _leaf(None, "r1", ["TAX_PAYMENT"]),  # a second part of the same report
        3: _leaf("GetEvaluation", "r2", ["evaluation"]),
        4: _leaf(None, "r9", ["REG_BASIC"]),  # public rows only: no use
        5: _leaf("GetEvaluation", "r3", ["evaluation"], decision="DENY"),
        6: _leaf("GetEvaluation", "r4", ["evaluation"], authorization="authorizations/other-test"),
    }
    assert world.log_use_violations(within) == []
    assert world.log_use_violations({**within, 7: _leaf("GetPortrait", "r2", ["portrait"])})
    assert world.log_use_violations({**within, 7: _leaf("GetPortrait", "", ["portrait"])})


def test_a_log_leaf_under_a_grant_to_someone_else_is_a_violation() -> None:
    world = _world("TAX_PAYMENT")
    for field, value in (("requester", "institutions/icbc"), ("enterprise", "enterprises/x"), ("purpose", "IN_LOAN")):
        assert world.log_use_violations({1: _leaf("GetEvaluation", "r1", ["evaluation"], **{field: value})}), field


def test_a_release_without_a_use_recorded_at_consent_is_a_violation() -> None:
    world = _world("TAX_PAYMENT", max_uses=2)
    release = Release(world.serving(BOC, E, "PRE_LOAN"), "GetEvaluation", "r1")
    assert unrecorded_uses([release], {"authorizations/a": {"r1"}}) == []
    assert unrecorded_uses([release], {"authorizations/a": {"r2"}})
