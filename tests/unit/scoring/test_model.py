"""The indicator system as data: the basic model validates against the sharing list; broken documents are rejected."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from creditnode.common.v1 import error_reason_pb2
from services.scoring.data import model_text
from services.scoring.domain.extract import Catalogue
from services.scoring.domain.model import DIMENSIONS, GRADES, Model, check_model, compile_model, load_model
from services.scoring.domain.problems import MODEL_REJECTED, ModelRejected


def basic_doc() -> dict[str, Any]:
    return copy.deepcopy(yaml.safe_load(model_text()))


def indicator(doc: dict[str, Any], code: str) -> dict[str, Any]:
    return next(i for i in doc["indicators"] if i["code"] == code)


def codes(doc: object, catalogue: Catalogue) -> set[str]:
    return {p.code for p in check_model(doc, catalogue)}


def test_basic_model_covers_nine_dimensions_with_weighted_indicators(model: Model) -> None:
    assert model.version == "basic-v1"
    assert {i.dimension for i in model.card.indicators} == set(DIMENSIONS)
    assert len(model.card.indicators) >= 12
    assert sum(i.weight for i in model.card.indicators) == pytest.approx(1.0)
    assert model.card.cap_grade == "CCC"
    assert {t.flag for t in model.card.triggers} == {"MALICIOUS_DEBT_EVASION", "DISHONEST_JUDGMENT_DEBTOR"}


def test_basic_model_reads_only_items_on_the_sharing_list(model: Model, catalogue: Catalogue) -> None:
    assert model.items <= set(catalogue)
    assert {"REG_BASIC", "TAX_CREDIT_GRADE", "TAX_PAYMENT", "SI_HEADCOUNT", "COURT_ENFORCEMENT"} <= model.items


def test_unknown_item_and_field_are_rejected(catalogue: Catalogue) -> None:
    doc = basic_doc()
    indicator(doc, "patents")["extract"]["sources"][0]["item"] = "HONOR_NOBEL_PRIZE"
    indicator(doc, "tax_paid_trend")["extract"]["sources"][0]["value"] = "tax_evaded_yuan"
    assert {"UNKNOWN_ITEM", "UNKNOWN_FIELD"} <= codes(doc, catalogue)


def test_a_field_of_the_wrong_type_for_its_role_is_rejected(catalogue: Catalogue) -> None:
    doc = basic_doc()
    indicator(doc, "years_in_business")["extract"]["sources"][0]["date"] = "registered_capital_yuan"
    assert codes(doc, catalogue) == {"FIELD_TYPE"}


def test_weights_that_do_not_add_up_are_rejected(catalogue: Catalogue) -> None:
    doc = basic_doc()
    indicator(doc, "patents")["weight"] = 0.05
    problems = check_model(doc, catalogue)
    assert [p.code for p in problems] == ["WEIGHTS_SUM"]
    assert "1.02" in problems[0].detail


def test_bins_with_a_gap_or_an_overlap_are_rejected(catalogue: Catalogue) -> None:
    doc = basic_doc()
    indicator(doc, "years_in_business")["bins"][1]["lower"] = 1.5  # [<1) then [1.5, 3): 1 to 1.5 falls nowhere
    indicator(doc, "registered_capital")["bins"][2]["lower"] = 500000  # overlaps [100000, 1000000)
    problems = check_model(doc, catalogue)
    assert {p.code for p in problems} == {"BIN_GAP", "BIN_OVERLAP"}
    assert {p.where for p in problems} == {
        "indicators.years_in_business.bins[1]",
        "indicators.registered_capital.bins[2]",
    }


def test_bins_must_cover_the_whole_line(catalogue: Catalogue) -> None:
    doc = basic_doc()
    indicator(doc, "patents")["bins"][-1]["upper"] = 100
    assert codes(doc, catalogue) == {"BIN_UNBOUNDED"}


def test_points_against_the_direction_are_rejected(catalogue: Catalogue) -> None:
    doc = basic_doc()
    indicator(doc, "open_enforcement_cases")["direction"] = "higher_is_better"
    assert codes(doc, catalogue) == {"DIRECTION"}


def test_grade_cutoffs_must_fall_strictly(catalogue: Catalogue) -> None:
    doc = basic_doc()
    doc["grades"]["A"] = 830
    assert codes(doc, catalogue) == {"BAD_CUTOFFS"}
    doc = basic_doc()
    del doc["grades"]["CC"]
    assert codes(doc, catalogue) == {"BAD_CUTOFFS"}


def test_every_problem_is_reported_at_once(catalogue: Catalogue) -> None:
    doc = basic_doc()
    indicator(doc, "patents")["extract"]["sources"][0]["item"] = "NOPE"
    indicator(doc, "patents")["weight"] = 0.5
    doc["discipline"]["triggers"][0]["signal"] = "no_such_signal"
    with pytest.raises(ModelRejected) as caught:
        compile_model(doc, catalogue)
    assert {p.code for p in caught.value.problems} == {"UNKNOWN_ITEM", "WEIGHTS_SUM", "UNKNOWN_SIGNAL"}
    assert caught.value.kind == "INVALID_ARGUMENT"
    assert caught.value.metadata["problem_count"] == "3"


def test_the_rejection_reason_is_a_published_error_reason() -> None:
    assert error_reason_pb2.ErrorReason.Value(MODEL_REJECTED) in range(400, 500)


def test_missing_dimension_and_unreadable_yaml_are_rejected(catalogue: Catalogue) -> None:
    doc = basic_doc()
    doc["indicators"] = [i for i in doc["indicators"] if i["dimension"] != "honours"]
    assert "DIMENSION_EMPTY" in codes(doc, catalogue)
    with pytest.raises(ModelRejected) as caught:
        load_model("version: [unclosed", catalogue)
    assert caught.value.problems[0].code == "BAD_YAML"
    assert "line 1, column" in caught.value.message  # where it breaks


@pytest.mark.parametrize(
    "document",
    ["version: !61010319900307123X v1", "version: *13912345678", "a: &61010319900307123X x\nb: &61010319900307123X y"],
    ids=["tag", "alias", "anchor"],
)
def test_unreadable_yaml_is_not_quoted_back(document: str, catalogue: Catalogue) -> None:
    # YAML's own message quotes the tag, alias or anchor, which may be personal data sent in the wrong place.
    with pytest.raises(ModelRejected) as caught:
        load_model(document, catalogue)
    told = f"{caught.value.message} {caught.value.metadata}"
    assert "BAD_YAML" in told
    for secret in ("61010319900307123X", "13912345678"):
        assert secret not in told


def test_linear_formula_and_exclusion_rule_compile(model: Model) -> None:
    ratio = next(i for i in model.card.indicators if i.code == "utility_payment_ratio")
    assert ratio.points(1.0) == 100.0
    assert ratio.points(0.9) == pytest.approx(50.0)
    assert ratio.points(0.5) == 0.0
    invoices = next(i for i in model.card.indicators if i.code == "invoice_sales_trend")
    assert invoices.missing_points is None


def test_grade_cap_holds_the_score_under_the_next_better_grade(model: Model) -> None:
    cap = GRADES.index("CCC")
    assert model.card.cap_index == cap
    assert model.card.cap_score == model.card.grade_mins[cap - 1] - 1


def where(doc: object, catalogue: Catalogue) -> set[tuple[str, str]]:
    return {(p.code, p.where) for p in check_model(doc, catalogue)}


def test_what_the_store_keeps_beside_the_text_is_bounded(catalogue: Catalogue) -> None:
    # version, title, risks and flags are stored in columns of bounded width: a document past them would be
    # published and then fail (PostgreSQL) at every evaluation or alert
    doc = basic_doc()
    doc["version"] = "v" * 81
    doc["title"] = "t" * 201
    doc["discipline"]["triggers"][0]["flag"] = "F" * 400
    doc["monitoring"]["record_rules"][0]["risk"] = "R" * 61
    doc["monitoring"]["signal_rules"][0]["risk"] = ""
    assert where(doc, catalogue) == {
        ("BAD_DOCUMENT", "version"),
        ("BAD_DOCUMENT", "title"),
        ("BAD_DISCIPLINE", "discipline.triggers"),
        ("BAD_MONITORING", "monitoring.record_rules[0].risk"),
        ("BAD_MONITORING", "monitoring.signal_rules[0].risk"),
    }


@pytest.mark.parametrize("version", ["basic/v2", "basic v2", "basic\x00v2", "-v2"])
def test_a_version_is_a_plain_name(catalogue: Catalogue, version: str) -> None:
    doc = basic_doc()
    doc["version"] = version  # it names the model (models/{version}) and every evaluation made with it
    assert where(doc, catalogue) == {("BAD_DOCUMENT", "version")}


def test_the_longest_version_title_risk_and_flags_pass(catalogue: Catalogue) -> None:
    doc = basic_doc()
    doc["version"] = "v" * 80
    doc["title"] = "信" * 200
    doc["monitoring"]["record_rules"][0]["risk"] = "R" * 60
    assert check_model(doc, catalogue) == []


def test_a_latest_value_whose_sources_cannot_be_ordered_together_is_rejected(catalogue: Catalogue) -> None:
    # a year against a date (or an order against none) could not be compared: every evaluation of an enterprise with
    # records of both items failed (INTERNAL), publication included, once such a model was accepted
    doc = basic_doc()
    sources = indicator(doc, "customs_credit_rating")["extract"]["sources"]
    sources.append({"item": "TAX_CREDIT_GRADE", "value": "grade", "order": "year"})
    assert where(doc, catalogue) == {("FIELD_TYPE", "indicators.customs_credit_rating.extract.sources")}
    del sources[-1]["order"]
    assert where(doc, catalogue) == {("BAD_EXTRACTION", "indicators.customs_credit_rating.extract.sources")}
    sources[-1] = {"item": "CUSTOMS_CREDIT_RATING", "value": "rating", "order": "effective_on"}
    assert check_model(doc, catalogue) == []


def test_an_in_condition_listing_something_other_than_values_is_rejected(catalogue: Catalogue) -> None:
    doc = basic_doc()  # a mapping in the list failed publication as INTERNAL (unhashable), not as a rejection
    indicator(doc, "open_enforcement_cases")["extract"]["sources"][0]["where"] = [
        {"field": "status", "op": "in", "value": ["OPEN", {"x": 1}]}
    ]
    assert where(doc, catalogue) == {
        ("BAD_CONDITION", "indicators.open_enforcement_cases.extract.sources[0].where[0].value")
    }
